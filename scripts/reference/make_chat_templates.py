#!/usr/bin/env python3
"""Renders the chat-template fixtures with Python's jinja2, configured as transformers configures it
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, {% generation %},
raise_exception, and a tojson that keeps key order and non-ASCII text), for FinchTextTests.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install Jinja2==3.1.6
    /tmp/refvenv/bin/python scripts/reference/make_chat_templates.py

Reads Tests/FinchTextTests/Fixtures/chat/templates/*.jinja and errors.json; writes
conversations.json and expected.jsonl beside them.
"""
import json, os, sys, glob
import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "FinchTextTests", "Fixtures", "chat")


class Generation(Extension):
    """{% generation %}...{% endgeneration %}: renders its body (transformers also records where)."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city, now.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"},
                                                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                          "required": ["city"]}}}
CLOCK = {"type": "function", "function": {"name": "time_now", "description": "The time \"now\".", "parameters": {"type": "object", "properties": {}}}}

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hi"}]},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is LoRA?"}]},
    {"messages": [{"role": "user", "content": "What is Finch?"}, {"role": "assistant", "content": "A finetuning lab."},
                  {"role": "user", "content": "Does it run on a CPU?"}, {"role": "assistant", "content": "Yes: two cores are enough."}]},
    {"messages": [{"role": "system", "content": "  You answer in French.\n"}, {"role": "user", "content": "Hello there!  "},
                  {"role": "assistant", "content": "Bonjour !"}]},
    {"messages": [{"role": "user", "content": "Unicode: café, 日本語, emoji 🐦, quotes ' \" and a\nnew line\ttab"},
                  {"role": "assistant", "content": "Noted — «ça marche».\n\nTwo paragraphs."}]},
    {"messages": [{"role": "user", "content": "What's the weather in Zürich?"},
                  {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}]},
                  {"role": "tool", "content": "{\"temperature\": 21}"},
                  {"role": "assistant", "content": "It is 21 °C in Zürich."}], "tools": [WEATHER, CLOCK]},
    {"messages": [{"role": "system", "content": "You can call tools."}, {"role": "user", "content": "Time and weather?"},
                  {"role": "assistant", "content": "Checking.", "tool_calls": [{"function": {"name": "time_now", "arguments": {}}},
                                                                              {"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
                  {"role": "tool", "content": "12:00"}, {"role": "tool", "content": {"temperature": -3}}], "tools": [WEATHER]},
    {"messages": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "Look:"}, {"type": "image"}, {"type": "text", "text": "what is it?"}]},
                  {"role": "assistant", "content": "A bird."}]},
    {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "   "}]},
    {"messages": []},
]


def error_line(e):
    if isinstance(e, jinja2.TemplateSyntaxError):
        return e.lineno
    tb, line = e.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(env, source, conversation, agp):
    try:
        t = env.from_string(source)
        kw = {"messages": conversation["messages"], "add_generation_prompt": agp, "bos_token": "<s>", "eos_token": "</s>"}
        if "tools" in conversation:
            kw["tools"] = conversation["tools"]
        return {"text": t.render(**kw)}
    except jinja2.TemplateError as e:
        raised = type(e) is jinja2.exceptions.TemplateError
        return {"error": str(e), "raised": raised, "line": error_line(e)}
    except Exception as e:  # TypeError and the like, inside the template
        return {"error": f"{type(e).__name__}: {e}", "raised": False, "line": error_line(e)}


def main():
    env = environment()
    templates = sorted(glob.glob(os.path.join(ROOT, "templates", "*.jinja")))
    with open(os.path.join(ROOT, "errors.json")) as f:
        errors = json.load(f)
    with open(os.path.join(ROOT, "conversations.json"), "w") as f:
        json.dump(CONVERSATIONS, f, ensure_ascii=False, indent=1)
        f.write("\n")
    count = 0
    with open(os.path.join(ROOT, "expected.jsonl"), "w") as out:
        for path in templates:
            name = os.path.basename(path)[:-len(".jinja")]
            with open(path) as f:
                source = f.read()
            for k, conversation in enumerate(CONVERSATIONS):
                for agp in (False, True):
                    row = {"template": name, "conversation": k, "add_generation_prompt": agp, **render(env, source, conversation, agp)}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    count += 1
        for name, source in errors:
            row = {"template": "error:" + name, "conversation": 2, "add_generation_prompt": False, **render(env, source, CONVERSATIONS[2], False)}
            assert "error" in row, name
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    print(f"wrote {count} cases for {len(templates)} templates and {len(errors)} error templates", file=sys.stderr)


if __name__ == "__main__":
    main()
