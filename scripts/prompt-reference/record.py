#!/usr/bin/env python3
"""Records what the reference implementation of the dynamic-prompts syntax makes of a corpus
of templates, for factory's prompt tests to compare against.

The reference is the `dynamicprompts` Python library that sd-dynamic-prompts and InvokeAI use.
Run it in a throwaway virtualenv (the tests only read the JSON this writes; they need no
Python):

    python3 -m venv /tmp/dp && /tmp/dp/bin/pip install 'dynamicprompts==0.31.*'
    /tmp/dp/bin/python scripts/prompt-reference/record.py > factory/tests/data/dynamicprompts.json

Each case records, in combinatorial mode, how many prompts the template makes (up to
MAX_PROMPTS; a template that makes prompts for ever reaches it) and the first FIRST of them, or
the reference's parse error.
"""

import json
import logging
import pathlib
import signal
import sys
import tempfile

import dynamicprompts
from dynamicprompts.generators import CombinatorialPromptGenerator
from dynamicprompts.wildcards import WildcardManager

MAX_PROMPTS = 1000
FIRST = 12
# Seconds a case may take: some templates send the reference into an endless loop.
TIMEOUT = 5

# Wildcard lists, as files. Sorted and without duplicates, because the reference reads a file
# as a sorted set (cases that show the difference use `unsorted`).
WILDCARDS = {
    "colors": ["blue", "green", "red"],
    "colors-warm": ["orange", "yellow"],
    "animals": ["cat", "dog", "fox"],
    "styles": ["oil painting", "watercolor"],
    "names": ["Ada", "Bo"],
    "nested": ["a __colors__ thing", "plain"],
    "deep": ["__nested__ deep", "shallow"],
    "cats/feline": ["tabby", "{black|white} cat"],
    "cats/big": ["lion", "tiger"],
    "moods": ["calm", "{2$$happy|sad}"],
    "unsorted": ["zebra", "apple", "mango"],
}

# The reference's own test cases (tests/samplers, tests/test_sd_issues.py), then the syntax
# form by form, then prompts as people write them.
REFERENCE_TESTS = [
    "",
    "A literal sentence",
    "Test [low emphasis]",
    "A red {square|circle}",
    "A {|red|blue} rose",
    "A {red|blue|} rose",
    "A {red|green} {square|circle}",
    "A {2$$red|green|blue} square",
    "A {1-2$$red|green|blue} square",
    "A {2$$ and $$red|green|blue} square",
    "A {2$$|$$red|green|blue} square",
    "A {1::red|2::green|3::blue} square",
    "A {red|green {square|circle}}",
    "A {2$$red|green} {square|circle}",
    "A __colors__ {square|circle}",
    "{__colors__}",
    "{2$$__colors__}",
    "{2$$__colors__|black}",
    "prefix,\n({0$$a|b} {1$$c|d|e}),\nsuffix",
    "{2$$ 1| 2| 3} {2$$ 1| 2| 3}",
    "prompt with closing bra}ce but {parsed|accepted}",
    "{2$$__colors-warm__}",
    "{\n    # 60% A\n    0.6::A\n    |\n    # 40% B\n    0.4::B\n    }",
]

VARIANTS = [
    "{a|b}", "{a|b|c}", "{a}", "{}", "{|}", "{a|}", "{|a}", "{a||b}",
    "{ a | b }", "{a |b|c }", "{  a|  b}", "{\ta|\tb}", "{a\n|b}", "{\na|\nb}",
    "{a|b}}", "{a|b}}}", "a}", "}", "}{a|b}", "a } b {c|d}",
    "a|b", "a | b {c|d}", "x {a|b} | y",
    "{a|a|b}", "{a|b|a}", "{a|{a|b}}", "{{a|b}|{b|c}}",
    "{{a|b}|c}", "{a|{b|{c|d}}}", "{{{a}}}", "{a|b}{c|d}", "{a|b} {c|d} {e|f}",
    "{red|green|blue} {cat|dog}", "{1|2|3|4|5} {x|y}",
]

PICKS = [
    "{2$$a|b|c}", "{3$$a|b|c}", "{1$$a|b|c}", "{0$$a|b}", "{3$$a|b}", "{5$$a|b|c}",
    "{1-2$$a|b|c}", "{1-3$$a|b|c}", "{2-3$$a|b|c}", "{-2$$a|b|c}", "{2-$$a|b|c}",
    "{0-1$$a|b}", "{1-5$$a|b}", "{3-1$$a|b|c}", "{2$$a|a|b}", "{2$$a|b|a}",
    "{2$$ and $$a|b}", "{2$$, $$a|b|c}", "{2$$ | $$a|b}", "{2$$|$$A|B|C}",
    "{2$$ - $$a|b|c}", "{2$$;$$a|b}", "{2$$  $$a|b}", "{2$$a|b|}", "{2$$|a|b}",
    "{2$$a|{b|c}}", "{2$$a,b|c}", "{2$$ a | b | c }", "{ 2$$a|b}", "{2$$ , $$a|b}",
    "{2$$a|b} {x|y}", "{x|y} {2$$a|b}", "{2$$a|b} {2$$c|d}", "{2$$a|b|c|d}",
    "{2$$a {x|y}|b}", "{3$$a|b|c|d}", "{1-2$$ and $$a|b|c}",
    "{2$$__animals__}", "{3$$__animals__}", "{1-2$$__names__}", "{2$$ & $$__animals__}",
    "{2$$__animals__|bird}", "{2$$__colors-warm__} {x|y}",
]

WEIGHTS = [
    "{2::a|b}", "{0.5::a|1.5::b}", "{3::a|b|c}", "{ 2::a | b }", "{2::a|3::b|c}",
    "{.5::a|b}", "{2.::a|b}", "{0::a|b}", "{2::{x|y}|z}", "{1::a|1::a|b}",
]

WILDCARD_FORMS = [
    "__colors__", "__animals__ and __colors__", "a __colors__ __animals__",
    "__colors__ __colors__", "__nested__", "__deep__", "__cats/feline__", "__cats/big__",
    "__cats/*__", "__colors*__", "__moods__", "{__animals__|bird}", "{bird|__animals__}",
    "__styles__ of a __animals__", "x__colors__y", "__colors__,__animals__",
    "(__colors__:1.2)", "[__colors__|__animals__]", "__names__ {is|was} here",
    "{__colors__ __animals__|none}", "__unsorted__", "{2$$__unsorted__}", "__missing__",
    "{a|__missing__}",
]

COMMENTS_AND_SPECIALS = [
    "a # comment", "a # c\nb", "#start", "a ## b", "line1\n# only comment\nline3",
    "{a|b # c\n|d}", "{a|b}#x", "__colors__#x", "a // not a comment", "a /* not */ b",
    "color #ff0000 hair", "price $5", "100% cotton", "${x=red} ${x}", "${x}",
    "%{wrap $$ inner}", "a $ b", "{a|b}$", "{~a|b}", "{@a|b|c}", "{!a|b}", "{~a|b} {x|y}",
    "__~colors__", "__@colors__", "\\{a|b\\}", "a\\|b", "\\_\\_colors\\_\\_", "back\\slash",
]

REAL_PROMPTS = [
    "masterpiece, best quality, (detailed face:1.2), {red|blonde|black} hair, looking at viewer",
    "a photo of a {cat|dog} sitting on a {chair|table}, 85mm, f/1.8, bokeh",
    "<lora:styleA:0.8> portrait of a {knight|wizard}, {oil painting|watercolor}",
    "(masterpiece:1.3), ((best quality)), [blurry:0.5], {day|night} city",
    "landscape, {spring|summer|autumn|winter}, {sunrise|sunset}, highly detailed",
    "{2$$red|blue|green|yellow} flowers in a vase",
    "a {1-2$$ and $$cat|dog|rabbit} playing in the garden",
    "cinematic still of __animals__, {dramatic|soft} lighting, 35mm film",
    "portrait of __names__, __styles__, {smiling|serious}",
    "a {tiny|huge} {red|blue} {cube|sphere} on a {wooden|glass} table",
    "{photo|painting|sketch} of a {castle|lighthouse} by the sea",
    "anime style, 1girl, {long|short} hair, {school uniform|kimono}, cherry blossoms",
    "low poly {fox|deer|owl}, isometric, {pastel|neon} colors",
    "{an astronaut|a diver} riding a {horse|bicycle} on the moon",
    "a bowl of {ramen|pho|udon}, top-down view, food photography",
    "studio shot of {sneakers|a watch|headphones}, white background, product photo",
    "{Van Gogh|Monet|Hokusai} style {harbor|garden}",
    "(portrait:1.1) of a {young|old} {man|woman}, rim light",
    "a {2$$, $$misty|rainy|snowy} forest",
    "vintage poster, {Paris|Tokyo|New York}, {1920s|1950s}",
    "macro photo of a {bee|ladybug} on a {sunflower|daisy}",
    "a robot {painting|reading|cooking}, {warm|cold} tones",
    "dragon, {red|gold|black} scales, breathing {fire|ice}",
    "cozy cabin interior, fireplace, {rain|snow} outside the window",
    "{sunny|stormy} beach, waves, seagulls\nlong exposure",
    "a {cup|mug} of coffee\n{latte art|steam}",
    "fantasy map, {islands|mountains}, ink and parchment",
    "steampunk {airship|locomotive}, brass, gears",
    "a {happy|sad} clown, {circus|street} background",
    "isometric room, {bedroom|kitchen}, {minimal|cluttered}",
]

# Generated forms: nesting depth and breadth, and longer option lists.
GENERATED = []
for n in range(2, 9):
    GENERATED.append("{" + "|".join(f"o{i}" for i in range(n)) + "}")
for depth in range(1, 6):
    inner = "x"
    for d in range(depth):
        inner = "{" + inner + f"|d{d}" + "}"
    GENERATED.append(inner)
for k in range(1, 5):
    GENERATED.append("{" + f"{k}$$" + "|".join("abcde") + "}")
for sep in [" ", " + ", "/", " then "]:
    GENERATED.append("{2$$" + sep + "$$a|b|c}")

TEMPLATES = (
    REFERENCE_TESTS + VARIANTS + PICKS + WEIGHTS + WILDCARD_FORMS + COMMENTS_AND_SPECIALS
    + REAL_PROMPTS + GENERATED
)


class Hang(Exception):
    pass


def on_alarm(signum, frame):
    raise Hang(f"the reference did not finish within {TIMEOUT} s")


def main() -> None:
    logging.disable(logging.WARNING)
    signal.signal(signal.SIGALRM, on_alarm)
    root = pathlib.Path(tempfile.mkdtemp())
    for name, values in WILDCARDS.items():
        path = root / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(values) + "\n")
    generator = CombinatorialPromptGenerator(WildcardManager(root))
    cases = []
    for template in TEMPLATES:
        case = {"template": template}
        signal.alarm(TIMEOUT)
        try:
            prompts = generator.generate(template, MAX_PROMPTS)
            case["count"] = len(prompts)
            case["first"] = prompts[:FIRST]
        except Exception as error:  # the reference refuses the template, or hangs
            case["error"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        finally:
            signal.alarm(0)
        cases.append(case)
    json.dump(
        {
            "reference": f"dynamicprompts {dynamicprompts.__version__}",
            "mode": "combinatorial",
            "max_prompts": MAX_PROMPTS,
            "first": FIRST,
            "wildcards": WILDCARDS,
            "cases": cases,
        },
        sys.stdout,
        indent=1,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
