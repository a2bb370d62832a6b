// Runs Khronos's glTF validator (npm `gltf-validator`, path in $GLTF_VALIDATOR) over the files
// named on the command line, reading resources only from each model's own folder, and prints
// one JSON line per file: its errors' codes and the counts the validator measures.
const fs = require("fs");
const path = require("path");
const validator = require(process.env.GLTF_VALIDATOR);

async function one(file) {
  const dir = path.dirname(file);
  const read = (uri) => new Promise((resolve, reject) => {
    const target = path.resolve(dir, decodeURIComponent(uri));
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || !target.startsWith(dir + path.sep)) {
      reject(`refused to read ${uri}`);
      return;
    }
    fs.readFile(target, (err, data) => (err ? reject(err.toString()) : resolve(data)));
  });
  try {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
      uri: path.basename(file),
      maxIssues: 100,
      externalResourceFunction: read,
    });
    const info = report.info || {};
    return {
      file,
      errors: report.issues.messages.filter((m) => m.severity === 0).map((m) => m.code),
      warnings: report.issues.messages.filter((m) => m.severity === 1).map((m) => m.code),
      vertices: info.totalVertexCount ?? null,
      triangles: info.totalTriangleCount ?? null,
      drawCalls: info.drawCallCount ?? null,
      materials: info.materialCount ?? null,
      animations: info.animationCount ?? null,
    };
  } catch (e) {
    // The validator could not even tell the format: a refusal.
    return { file, errors: [`UNREADABLE: ${e}`], warnings: [] };
  }
}

(async () => {
  for (const file of process.argv.slice(2)) {
    console.log(JSON.stringify(await one(path.resolve(file))));
  }
})();
