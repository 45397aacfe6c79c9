/**
 * The Python side of a tool run, shared by the Pyodide and the subprocess runners so both call a tool exactly as
 * Letta's generated sandbox script does (`letta/services/tool_sandbox/base.py`): the source is executed as
 * `__main__` after `from typing import *`, string arguments are coerced by annotation (json, then literal_eval),
 * `agent_state` / `agent_id` are passed only when the signature takes them, coroutines are awaited, and the return
 * value goes through a model_dump-like conversion and `json.dumps(default=str)`.
 *
 * `cairn_run_tool(request_json)` returns the result as JSON: `{"ok": true, "results": …}` or
 * `{"ok": false, "exc": name, "msg": message}`; the traceback goes to stderr as Letta's subprocess would print it.
 */
export const PYTHON_HARNESS = String.raw`
import json as _cairn_json
import sys as _cairn_sys

# Bound now, before any tool runs: a tool that patches json.dumps only changes what it returns itself.
_cairn_dumps = _cairn_json.dumps
_cairn_loads = _cairn_json.loads


class _CairnView(dict):
    """A JSON object read as attributes too, so tools can write agent_state.id or agent_state.memory.blocks."""

    def __getattr__(self, name):
        try:
            return _cairn_view(self[name])
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def model_dump(self, **_kwargs):
        return dict(self)


class _CairnMemory(_CairnView):
    def get_block(self, label):
        for block in self.get("blocks") or []:
            if block.get("label") == label:
                return _cairn_view(block)
        raise KeyError(f"Block field {label} does not exist (available sections = {self.list_block_labels()})")

    def list_block_labels(self):
        return [block.get("label") for block in self.get("blocks") or []]

    def update_block_value(self, label, value):
        if not isinstance(value, str):
            raise ValueError("Provided value must be a string")
        self.get_block(label)["value"] = value


def _cairn_view(value):
    if isinstance(value, _CairnView) or not isinstance(value, (dict, list)):
        return value
    if isinstance(value, list):
        return [_cairn_view(v) for v in value]
    view = _CairnView({k: _cairn_view(v) for k, v in value.items()})
    if isinstance(view.get("memory"), dict):
        dict.__setitem__(view, "memory", _CairnMemory(view["memory"]))
    return view


def _cairn_coerce(fn, args):
    import ast
    import typing

    annotations = getattr(fn, "__annotations__", {})
    coerced = dict(args)
    for name, value in coerced.items():
        if name not in annotations:
            continue
        annotation = annotations[name]
        if isinstance(annotation, str):
            annotation = eval(annotation, fn.__globals__)
        if isinstance(value, str):
            try:
                value = _cairn_json.loads(value)
            except ValueError:
                try:
                    value = ast.literal_eval(value)
                except (SyntaxError, ValueError) as e:
                    if annotation is not str:
                        raise ValueError(f"Failed to coerce argument '{name}' to {annotation}: {e}")
        origin = typing.get_origin(annotation)
        coerced[name] = origin(value) if origin in (list, dict, tuple, set) else annotation(value)
    return coerced


def _cairn_jsonable(value):
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: _cairn_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cairn_jsonable(v) for v in value]
    return value


def _cairn_await(awaitable):
    import asyncio

    try:
        return asyncio.run(awaitable)
    except RuntimeError:
        # Pyodide's loop cannot block; a coroutine that awaits nothing real still runs to completion by hand.
        try:
            while True:
                awaitable.send(None)
        except StopIteration as done:
            return done.value


def cairn_run_tool(request_json):
    import inspect
    import os
    import traceback

    request = _cairn_loads(request_json)
    for wheel in request.get("wheel_files", []):
        # Pure-Python wheels are zip files laid out for site-packages: unpacking is the whole installation.
        import importlib
        import site
        import zipfile

        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site.getsitepackages()[0])
        os.remove(wheel)
        importlib.invalidate_caches()
    os.environ.clear()
    os.environ.update(request["env"])
    agent_state = _cairn_view(request["agent_state"]) if request["agent_state"] is not None else None
    namespace = {"__name__": "__main__", "__builtins__": __builtins__, "agent_state": agent_state}
    name = request["function_name"]
    try:
        exec("from typing import *", namespace)
        exec(compile(request["source"], "<tool>", "exec"), namespace)
        fn = namespace[name]
        parameters = inspect.signature(fn).parameters
        args = dict(request["args"])
        try:
            args = _cairn_coerce(fn, args)
        except Exception:
            pass
        if "agent_state" in parameters:
            args["agent_state"] = agent_state
        if "agent_id" in parameters:
            args["agent_id"] = agent_state.get("id") if agent_state is not None else None
        result = fn(**args)
        if inspect.isawaitable(result):
            result = _cairn_await(result)
        text = _cairn_dumps({"ok": True, "results": _cairn_jsonable(result)}, default=str)
    except BaseException as error:
        traceback.print_exc()
        _cairn_sys.stderr.flush()
        text = _cairn_dumps({"ok": False, "exc": type(error).__name__, "msg": str(error)}, default=str)
    finally:
        _cairn_sys.stdout.flush()
    return text
`;

/**
 * Run once in a Pyodide interpreter before any tool: no path from Python to the JavaScript realm stays open. The
 * modules that bridge to JS are unloaded and refused at import; `gc` walks (which would find live JS proxies),
 * process spawning and sockets are refused by an audit hook (which Python code cannot remove or inspect); and
 * `_imp.create_builtin`, which could re-create the bridge module without an import, is routed through that hook.
 */
export const PYODIDE_LOCKDOWN = String.raw`
def _cairn_lockdown():
    import _imp
    import sys

    blocked = ("js", "pyodide_js", "pyodide", "_pyodide", "_pyodide_core", "micropip", "pyodide_http", "ctypes", "_ctypes")
    refused = {
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "os.system", "os.exec", "os.posix_spawn",
        "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen", "socket.__new__", "socket.connect", "socket.bind",
        "socket.getaddrinfo", "socket.sendto", "ctypes.dlopen", "sys._current_frames", "sys.setprofile",
    }
    create_builtin = _imp.create_builtin

    def is_blocked(name):
        return any(name == b or name.startswith(b + ".") for b in blocked)

    def hook(event, args):
        if event == "import" and is_blocked(str(args[0])):
            raise ImportError(f"module '{args[0]}' is not available in the tool sandbox")
        if event in refused:
            raise PermissionError(f"{event} is not allowed in the tool sandbox")
        if event == "cairn.create_builtin":
            spec, box = args
            if is_blocked(spec.name):
                raise ImportError(f"module '{spec.name}' is not available in the tool sandbox")
            box.append(create_builtin(spec))

    def guarded_create_builtin(spec):
        box = []
        sys.audit("cairn.create_builtin", spec, box)
        return box[0]

    for name in list(sys.modules):
        if is_blocked(name):
            del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__name__.startswith("Js")]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "Js" not in getattr(h, "__name__", "")]
    _imp.create_builtin = guarded_create_builtin
    sys.addaudithook(hook)


_cairn_lockdown()
del _cairn_lockdown
`;
