"""The pipe between the grader and the child running student code: JSON lines, both ways.

    grader --request line-->  child   {"id": 3, "op": "call", "target": 7, "args": [...]}
    grader <--reply line----  child   {"id": 3, "value": ...}  or  {"id": 3, "error": {...}}
    grader <--event line----  child   {"event": "thread_error", ...}   (at any time)

Plain data (None, numbers, text, lists, dicts with text keys) crosses as
JSON; bytes as {"__bytes__": base64}; any other object stays in the child
and crosses as a handle, {"__handle__": number, "type": ..., "callable": ...}.
Both ends encode and decode with the same two functions; only what a
handle becomes differs (the child looks the object up, the grader makes a
Remote for it).
"""

import base64
import json


def encode(value, as_handle):
    """`value` as JSON data; as_handle(obj) gives the handle of anything that is not plain data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(item, as_handle) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: encode(item, as_handle) for key, item in value.items()}
    return as_handle(value)


def decode(value, from_handle):
    """The value of JSON data; from_handle(handle) gives what a handle stands for on this end."""
    if isinstance(value, list):
        return [decode(item, from_handle) for item in value]
    if isinstance(value, dict):
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__handle__" in value:
            return from_handle(value)
        return {key: decode(item, from_handle) for key, item in value.items()}
    return value


def line(message):
    """One message as a line of the pipe."""
    return json.dumps(message, ensure_ascii=False) + "\n"
