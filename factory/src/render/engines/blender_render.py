# Art Factory's Blender render script: imports the scene's models (one GLB), sets the camera,
# the lights, the world colour and the output, and renders with Cycles on the CPU.
# Run as: blender -b --factory-startup -noaudio --python-exit-code 1 -P this.py -- order.json
import json
import math
import sys

import numpy

# Debian's numpy 1.24 removed numpy.bool, which Blender 3.4's glTF importer still uses.
if not hasattr(numpy, "bool"):
    numpy.bool = bool

import bpy  # noqa: E402
from mathutils import Vector  # noqa: E402

order = json.load(open(sys.argv[sys.argv.index("--") + 1]))

bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=order["glb"])
scene = bpy.context.scene


def blender(p):
    # glTF is Y up, Blender Z up: the importer turns (x, y, z) into (x, -z, y).
    return Vector((p[0], -p[2], p[1]))


def aim(obj, position, target):
    obj.location = blender(position)
    direction = blender(target) - blender(position)
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()


camera = order["camera"]
data = bpy.data.cameras.new("camera")
data.sensor_fit = "VERTICAL"
if camera["projection"]["type"] == "perspective":
    data.type = "PERSP"
    data.angle_y = math.radians(camera["projection"]["fov"])
else:
    data.type = "ORTHO"
    data.ortho_scale = camera["projection"]["height"]
data.clip_start = camera["near"]
data.clip_end = camera["far"]
obj = bpy.data.objects.new("camera", data)
scene.collection.objects.link(obj)
aim(obj, camera["position"], camera["target"])
scene.camera = obj

for light in order["lights"]:
    kind = {"directional": "SUN", "point": "POINT", "spot": "SPOT"}[light["light"]]
    data = bpy.data.lights.new(light["name"], kind)
    data.energy = light["strength"]
    data.color = light["color"]
    if kind == "SPOT":
        outer = math.radians(light["outer_cone"])
        inner = math.radians(light["inner_cone"])
        data.spot_size = 2 * outer
        data.spot_blend = (outer - inner) / outer if outer > 0 else 0
    obj = bpy.data.objects.new(light["name"], data)
    scene.collection.objects.link(obj)
    aim(obj, light["position"], light["target"])

world = bpy.data.worlds.new("environment")
world.use_nodes = True
background = world.node_tree.nodes["Background"]
background.inputs[0].default_value = (*order["environment"], 1.0)
background.inputs[1].default_value = 1.0
scene.world = world

scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = order["samples"]
# Debian's Blender is built without OpenImageDenoise: denoising on fails the render.
scene.cycles.use_denoising = False
for layer in scene.view_layers:
    layer.cycles.use_denoising = False
scene.render.resolution_x = order["width"]
scene.render.resolution_y = order["height"]
scene.render.resolution_percentage = 100
scene.view_settings.view_transform = "Standard"
settings = scene.render.image_settings
settings.file_format = {"png": "PNG", "jpeg": "JPEG", "exr": "OPEN_EXR"}[order["format"]]
if order["format"] == "jpeg":
    settings.quality = 92
if order["format"] == "png":
    settings.color_mode = "RGB"
if order["format"] == "exr":
    # Linear light, half floats, lossless ZIP: what compositing reads, and what the app's
    # decoder (and every OpenEXR reader) takes. The view transform does not apply to it.
    settings.color_mode = "RGBA"
    settings.color_depth = "16"
    settings.exr_codec = "ZIP"
scene.render.use_file_extension = False
scene.render.filepath = order["output"]
print("ART_FACTORY: rendering", flush=True)
bpy.ops.render.render(write_still=True)
print("ART_FACTORY: written", flush=True)
