"""schemathesis hooks: MessagePack bodies both ways, so the fuzzer sends and validates them too."""

import msgpack
import schemathesis

# MessagePack integers stop at 64 bits; a larger one generated for an unbounded integer goes as a
# float (the same value a JSON parser would read).
_INT_RANGE = (-(2**63), 2**64 - 1)


def _fit(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        return float(value)
    if isinstance(value, dict):
        return {k: _fit(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fit(v) for v in value]
    return value


@schemathesis.serializer("application/msgpack")
def to_msgpack(ctx, value):
    return msgpack.packb(_fit(value), use_bin_type=True)


@schemathesis.deserializer("application/msgpack")
def from_msgpack(ctx, response):
    return msgpack.unpackb(response.content, raw=False)
