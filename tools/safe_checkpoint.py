"""Reads a torch.save checkpoint (the zip format of torch 1.6 and later) without running any code from it.

Training scripts save more than tensors: DiT's train.py {"model", "ema", "opt", "args"}, FlowAR's {"model",
"model_ema", "optimizer", "epoch", "scaler", "args"}, LlamaGen's {"model", "optimizer", "steps", "args"}. torch
1.13's weights_only reader refuses them (a Python float in the optimizer state is pickle opcode 71, BINFLOAT, which
it does not know; argparse.Namespace is not on its list), and torch.load(pickle_module=...) is no way out: torch
1.13 replaces the given module with pickle whenever weights_only is off. So this reader opens the zip itself and
unpickles data.pkl with an allow-list: it builds only plain data — tensors (from the archive's storages, by this
module's own rebuild functions), dicts, OrderedDicts, lists, tuples, sets, numbers, strings, bytes, torch sizes,
dtypes and devices, and argparse.Namespace read as a dict (Arguments). Any other global is refused with
UnpicklingError naming it, before anything is called.

    import safe_checkpoint
    ckpt = safe_checkpoint.load("checkpoint-last.pth")   # tensors are torch tensors on the CPU
"""
import _compat_pickle
import collections
import copyreg
import pickle
import zipfile

STORAGE_DTYPES = {  # torch.<Name>Storage -> the torch dtype name of its elements
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
    "ByteStorage": "uint8", "BoolStorage": "bool", "UntypedStorage": "uint8",
}


class Arguments(dict):
    """argparse.Namespace as it was pickled: its attributes as a dict, never the class itself."""

    def __setstate__(self, state):
        self.update(state if isinstance(state, dict) else {})


class NotACheckpoint(pickle.UnpicklingError):
    """The file is not a torch.save zip archive this reader can open (it says what it is instead)."""


def _rebuild_tensor(storage, offset, size, stride, *_ignored):
    """torch._utils._rebuild_tensor(_v2): a view of the storage; requires_grad, hooks and metadata do not matter here."""
    import torch
    return torch.as_strided(storage, tuple(size), tuple(stride), offset)


def _rebuild_parameter(data, *_ignored):
    return data


def _rebuild_from_type(func, _type, args, _state):
    return func(*args)


def _allowed():
    import torch
    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("argparse", "Namespace"): Arguments,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "object"): object,
        ("copyreg", "_reconstructor"): copyreg._reconstructor,
        ("torch", "Size"): torch.Size,
        ("torch", "device"): torch.device,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type"): _rebuild_from_type,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
        ("torch", "Tensor"): torch.Tensor,
        ("torch.nn.parameter", "Parameter"): torch.nn.Parameter,
    }
    for name in dir(torch):
        if isinstance(getattr(torch, name, None), torch.dtype):
            allowed[("torch", name)] = getattr(torch, name)
    return allowed


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, archive, prefix):
        super().__init__(data, encoding="utf-8")
        self.archive, self.prefix, self.storages, self.allowed = archive, prefix, {}, _allowed()

    def find_class(self, module, name):
        # protocol 2 (torch.save's) writes Python 2 names such as __builtin__.set, as pickle's own find_class maps them
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if module == "torch" and name in STORAGE_DTYPES:
            return ("storage type", name)   # only ever an argument of persistent_load
        found = self.allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError("refused to build %s.%s: not plain checkpoint data (tensors, numbers, strings, "
                                         "containers, argparse arguments)" % (module, name))
        return found

    def persistent_load(self, pid):
        """('storage', storage type, key, location, numel): the raw elements in the archive's data/<key>, as a 1-D tensor."""
        import torch
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], tuple)):
            raise pickle.UnpicklingError("refused a persistent object %r: only tensor storages are read" % (pid[:2],))
        dtype, key = getattr(torch, STORAGE_DTYPES[pid[1][1]]), str(pid[2])
        if key not in self.storages:
            raw = bytearray(self.archive.read(self.prefix + "data/" + key))
            self.storages[key] = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        return self.storages[key]


def load(path):
    """The checkpoint's object tree; raises pickle.UnpicklingError naming a refused object or what the file is."""
    if not zipfile.is_zipfile(path):
        raise NotACheckpoint("not a torch.save zip archive (a checkpoint saved before torch 1.6, or not a checkpoint): "
                             "the safe reader only reads the zip format")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if any(n.endswith("/constants.pkl") for n in names) or any("/code/" in n for n in names):
            raise NotACheckpoint("a TorchScript archive (torch.jit.save), not a checkpoint of tensors")
        if len(pickles) != 1:
            raise NotACheckpoint("a zip file without torch.save's <name>/data.pkl")
        prefix = pickles[0][:-len("data.pkl")]
        if prefix + "byteorder" in names and archive.read(prefix + "byteorder").strip() != b"little":
            raise NotACheckpoint("saved on a big-endian machine: its tensors are not read")
        with archive.open(pickles[0]) as data:
            return _Unpickler(data, archive, prefix).load()
