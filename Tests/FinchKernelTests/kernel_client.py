"""Drives `finch kernel` with Jupyter's own client (jupyter_client's KernelManager), as
JupyterLab or nbclient would, and prints one JSON line of what came back for the Swift test
to check. Usage: kernel_client.py JUPYTER_DATA_DIR (holding kernels/finch/kernel.json)."""
import json
import os
import queue
import statistics
import sys
import time

os.environ["JUPYTER_PATH"] = sys.argv[1]
from jupyter_client import KernelManager  # noqa: E402

out = {}


def run(kc, code, timeout=60):
    """Executes code; returns the reply's content and the IOPub messages it caused."""
    msg_id = kc.execute(code)
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append((msg["msg_type"], msg["content"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=timeout)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"], messages


def request(kc, method, *args, **kwargs):
    msg_id = getattr(kc, method)(*args, **kwargs)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["msg_type"], reply["content"]


km = KernelManager(kernel_name="finch")
t0 = time.perf_counter()
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=30)
out["start_to_ready_s"] = time.perf_counter() - t0

t0 = time.perf_counter()
kind, info = request(kc, "kernel_info")
out["kernel_info_s"] = time.perf_counter() - t0
out["kernel_info"] = [kind, info["protocol_version"], info["language_info"]["name"], info["language_info"]["file_extension"]]

reply, msgs = run(kc, "1 + 1")
out["one_plus_one"] = [reply["status"], reply["execution_count"],
                       [c["data"]["text/plain"] for t, c in msgs if t == "execute_result"],
                       [c["execution_count"] for t, c in msgs if t == "execute_input"]]

times = []
for _ in range(40):
    t0 = time.perf_counter()
    run(kc, "1 + 1")
    times.append(time.perf_counter() - t0)
out["round_trip_median_ms"] = statistics.median(times) * 1000

reply, msgs = run(kc, 'print("hello")\nx = [1, 2]\nprint(len(x))')
out["streams"] = "".join(c["text"] for t, c in msgs if t == "stream" and c["name"] == "stdout")
out["no_result_for_nil"] = [t for t, c in msgs if t == "execute_result"]

reply, msgs = run(kc, "fn f(a) { a + missing_name }\nf(1)")
errors = [c for t, c in msgs if t == "error"]
out["error"] = [reply["status"], reply.get("ename"), errors[0]["evalue"] if errors else None,
                errors[0]["traceback"] if errors else None]

out["is_complete"] = [request(kc, "is_complete", code)[1]["status"] for code in ["1 + 1", "fn f() {", "1 + )"]]

_, c = request(kc, "complete", "pri", 3)
out["complete_global"] = [("print" in c["matches"]), c["cursor_start"], c["cursor_end"]]
_, c = request(kc, "complete", "x.pu", 4)
out["complete_member"] = [c["matches"], c["cursor_start"]]
_, c = request(kc, "complete", "round(1.5, dig", 14)
out["complete_kwarg"] = c["matches"][:1]

_, c = request(kc, "inspect", "print", 2)
out["inspect"] = [c["found"], c["data"].get("text/plain", "").splitlines()[:1]]
_, c = request(kc, "inspect", "no_such_thing", 3)
out["inspect_missing"] = c["found"]

_, c = request(kc, "history", hist_access_type="tail", n=100)
out["history_has_print"] = any('print("hello")' in h[2] for h in c["history"])

reply, msgs = run(kc, 'model(vocab: 16, dim: 8, layers: 1, heads: 2, context: 8).params')
out["table_result_types"] = [sorted(c["data"].keys()) for t, c in msgs if t == "execute_result"]
reply, msgs = run(kc, 'plot([1, 4, 9, 16], title: "squares")')
out["figure"] = [(sorted(c["data"].keys()), c["data"].get("image/png", "")[:8]) for t, c in msgs if t == "display_data"]

# Interrupt: SIGINT, as JupyterLab's stop button sends it (interrupt_mode signal).
msg_id = kc.execute("n = 0\nwhile true { n += 1 }")
time.sleep(1.0)
km.interrupt_kernel()
reply = kc.get_shell_msg(timeout=30)
out["interrupted"] = [reply["content"]["status"], reply["content"].get("ename")]
reply, msgs = run(kc, "n > 0")
out["after_interrupt"] = [c["data"]["text/plain"] for t, c in msgs if t == "execute_result"]
# The signal must not have stopped the heartbeat or the control channel.
time.sleep(2.5)
out["beating_after_interrupt"] = kc.hb_channel.is_beating()
control = kc.session.msg("kernel_info_request")
kc.control_channel.send(control)
reply = kc.control_channel.get_msg(timeout=10)
out["control_after_interrupt"] = [reply["msg_type"], reply["parent_header"]["msg_id"] == control["header"]["msg_id"]]

# Interrupting training: the step in progress finishes and train returns its run, as at Ctrl-C.
run(kc, 'texts = []\nfor i in range(40) { texts.push({"text": "the cat sat on the mat number ${i}"}) }\n'
        'tok = bpe_train(texts.map(fn(r) { r["text"] }), vocab: 300, special: ["<|end|>"])\n'
        'tiny = model(vocab: tok.vocab_size, dim: 32, layers: 1, heads: 2, context: 32, tokenizer: tok, seed: 1)')
msg_id = kc.execute('r = train(tiny, dataset(texts), lr: 1e-3, steps: 1000000, batch: 4, print_every: 1000000)\nr.steps')
time.sleep(2.0)
km.interrupt_kernel()
reply = kc.get_shell_msg(timeout=60)
results = []
while True:
    msg = kc.get_iopub_msg(timeout=30)
    if msg["parent_header"].get("msg_id") != msg_id:
        continue
    if msg["msg_type"] == "execute_result":
        results.append(msg["content"]["data"]["text/plain"])
    if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
        break
out["interrupted_training"] = [reply["content"]["status"], results]

# Live training: the progress lines and the loss curve are displays updated in place.
reply, msgs = run(kc, 'r2 = train(tiny, dataset(texts), lr: 1e-3, steps: 300, batch: 4, print_every: 100, plot_every: 100, seed: 1)')
latest, order = {}, []
for t, c in msgs:
    if t in ("display_data", "update_display_data") and "display_id" in c.get("transient", {}):
        i = c["transient"]["display_id"]
        if t == "display_data":
            order.append(i)
        latest[i] = c["data"]
out["live"] = {
    "status": reply["status"],
    "streams": [c["text"] for t, c in msgs if t == "stream"],
    "displays": [sorted(latest[i].keys()) for i in order],
    "updates": sum(1 for t, _ in msgs if t == "update_display_data"),
    "progress": [l.split("  loss")[0] for l in latest[order[0]]["text/plain"].splitlines()] if order else [],
    "messages": len(msgs),
}

# Bad messages: a wrong signature and broken JSON are dropped and logged; the kernel goes on.
socket = kc.shell_channel.socket
socket.send_multipart([b"<IDS|MSG>", b"0" * 64, b"{}", b"{}", b"{}", b"{}"])
socket.send_multipart([b"<IDS|MSG>", kc.session.sign([b"{not json", b"{}", b"{}", b"{}"]), b"{not json", b"{}", b"{}", b"{}"])
socket.send_multipart([b"no delimiter"])
kc.shell_channel.send(kc.session.msg("no_such_request"))  # signed, but of a type no kernel answers
kind, _ = request(kc, "kernel_info")
out["alive_after_bad_messages"] = kind

# Restart: a new process, a fresh session.
km.restart_kernel(now=False)
kc.wait_for_ready(timeout=30)
reply, msgs = run(kc, '"x" + str(1)')
out["after_restart"] = [reply["execution_count"], [c["data"]["text/plain"] for t, c in msgs if t == "execute_result"]]

kc.stop_channels()
km.shutdown_kernel(now=False)
out["exited"] = not km.is_alive()
print(json.dumps(out))
