"""Talks to a Finch server with the official openai package, as a user's program would.

Usage: python openai_client.py BASE_URL API_KEY MODEL. Prints one JSON object with what came back.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, api_key, model = sys.argv[1:4]
client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)
out = {"models": [m.id for m in client.models.list()]}

question = [{"role": "user", "content": "What is the capital of France?"}]
stream = client.chat.completions.create(model=model, messages=question, max_tokens=24, temperature=0, stream=True)
out["chat_stream"] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
reply = client.chat.completions.create(model=model, messages=question, max_tokens=24, temperature=0)
out["chat"] = reply.choices[0].message.content
out["chat_usage"] = [reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens]

stream = client.completions.create(model=model, prompt="The capital of France is", max_tokens=12, temperature=0, stream=True)
out["completion_stream"] = "".join(c.choices[0].text for c in stream if c.choices)

scored = client.completions.create(model=model, prompt="Water boils at one hundred degrees.", max_tokens=0,
                                   echo=True, logprobs=1, temperature=0)
out["echo_tokens"] = scored.choices[0].logprobs.tokens
out["echo_logprobs"] = scored.choices[0].logprobs.token_logprobs

for name, call in [
    ("unknown_model", lambda: client.completions.create(model="no-such-model", prompt="Hi", max_tokens=1)),
    ("bad_key", lambda: OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()),
    ("bad_option", lambda: client.completions.create(model=model, prompt="Hi", n=3)),
]:
    try:
        call()
        out[name] = "no error"
    except openai.APIStatusError as e:
        out[name] = [e.status_code, e.body.get("message") if isinstance(e.body, dict) else str(e.body)]

print(json.dumps(out))
