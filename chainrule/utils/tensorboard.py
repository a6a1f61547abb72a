"""``SummaryWriter``: TensorBoard event files with PyTorch's API.

Built on the ``tensorboard`` package (the optional ``tensorboard`` extra):
its ``EventFileWriter`` writes the records and its protocol buffers describe
them, so the files are exactly what TensorBoard reads::

    from chainrule.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as w:
        for step in range(100):
            w.add_scalar("loss", loss, step)

``add_graph`` draws the recorded computation of one forward pass (the same
tape ``chainrule.viz.draw_graph`` reads), each node scoped by the module that
made it.  Values are read out of Tensors with ``.numpy()`` only to be encoded.
"""
import os
import socket
import time
from datetime import datetime

from ..errors import ArgumentError


def _tb():
    try:
        from tensorboard.compat.proto import (  # noqa: F401  (returned in locals())
            attr_value_pb2, event_pb2, graph_pb2, node_def_pb2, summary_pb2,
            tensor_pb2, tensor_shape_pb2, versions_pb2,
        )
        from tensorboard.summary.writer.event_file_writer import (  # noqa: F401
            EventFileWriter,
        )
    except ImportError:
        raise ImportError("SummaryWriter needs the tensorboard package, which is not "
                          "installed; install it with: pip install "
                          "'chainrule[tensorboard]'") from None
    return locals()


def _array(value, who):
    import numpy as np

    from ..tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach().numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{who}: expected a Tensor, array or number, got "
                            f"{type(value).__name__}") from None


def _scalar(value, who):
    a = _array(value, who)
    if a.size != 1:
        raise ArgumentError(f"{who}: expected a single number, got shape "
                            f"{list(a.shape)}")
    return float(a.reshape(()))


class SummaryWriter:
    """Writes events for TensorBoard into ``log_dir`` (default
    ``runs/<date>_<host><comment>``), as ``torch.utils.tensorboard``'s."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        self._pb = _tb()
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._opts = dict(max_queue_size=max_queue, flush_secs=flush_secs,
                          filename_suffix=filename_suffix)
        self._writer = self._pb["EventFileWriter"](self.log_dir, **self._opts)
        self._subs = {}
        if purge_step is not None:
            ev = self._pb["event_pb2"].Event(step=purge_step,
                                             file_version="brain.Event:2")
            self._writer.add_event(ev)

    def get_logdir(self):
        return self.log_dir

    # -- plumbing ---------------------------------------------------------------
    def _event(self, summary=None, step=None, walltime=None, writer=None, **fields):
        ev = self._pb["event_pb2"].Event(
            wall_time=time.time() if walltime is None else walltime, **fields)
        if summary is not None:
            ev.summary.CopyFrom(summary)
        if step is not None:
            ev.step = int(step)
        (writer or self._writer).add_event(ev)

    def _value(self, tag, step, walltime, writer=None, **kw):
        pb = self._pb["summary_pb2"]
        self._event(pb.Summary(value=[pb.Summary.Value(tag=tag, **kw)]), step,
                    walltime, writer)

    # -- summaries ---------------------------------------------------------------
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None,
                   new_style=False, double_precision=False):
        """One number: a point on the curve ``tag``."""
        self._value(tag, global_step, walltime,
                    simple_value=_scalar(scalar_value, "add_scalar"))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves on one chart: each goes to ``log_dir/main_tag_key``."""
        for key, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, f"{main_tag}_{key}".replace("/", "_"))
            w = self._subs.get(path)
            if w is None:
                w = self._subs[path] = self._pb["EventFileWriter"](path, **self._opts)
            self._value(main_tag, global_step, walltime, writer=w,
                        simple_value=_scalar(value, "add_scalars"))

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None):
        """The distribution of ``values``: ``bins`` an int or a NumPy rule
        ('auto', 'fd', ...; 'tensorflow' means 'auto')."""
        import numpy as np

        a = _array(values, "add_histogram").astype(np.float64).reshape(-1)
        if a.size == 0:
            raise ArgumentError(f"add_histogram: {tag!r} got no values")
        # 'tensorflow' (PyTorch's default name) is NumPy's 'auto' rule here.
        counts, edges = np.histogram(a, bins="auto" if bins == "tensorflow" else bins)
        limits = edges[1:]
        hist = self._pb["summary_pb2"].HistogramProto(
            min=float(a.min()), max=float(a.max()), num=int(a.size),
            sum=float(a.sum()), sum_squares=float((a * a).sum()),
            bucket_limit=[float(v) for v in limits], bucket=[float(c) for c in counts])
        self._value(tag, global_step, walltime, histo=hist)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None,
                  dataformats="CHW"):
        """One image, ``dataformats`` 'CHW', 'HWC' or 'HW'; floats in [0, 1]
        or uint8 in [0, 255].  Encoded as PNG (needs Pillow)."""
        import io

        import numpy as np

        a = _array(img_tensor, "add_image")
        fmt = dataformats.upper()
        if fmt not in ("CHW", "HWC", "HW") or a.ndim != len(fmt):
            raise ArgumentError(f"add_image: image of shape {list(a.shape)} does not "
                                f"match dataformats={dataformats!r}; use 'CHW', "
                                "'HWC' or 'HW' with that many dims")
        if fmt == "HW":
            a = a[:, :, None]
        elif fmt == "CHW":
            a = a.transpose(1, 2, 0)
        if a.shape[2] not in (1, 3, 4):
            raise ArgumentError(f"add_image: {a.shape[2]} channels; images have 1, 3 "
                                "or 4")
        if a.dtype != np.uint8:
            a = (np.clip(a.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
        try:
            from PIL import Image
        except ImportError:
            raise ImportError("add_image: encoding PNG needs Pillow (pip install "
                              "pillow)") from None
        buf = io.BytesIO()
        Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a).save(buf, format="PNG")
        img = self._pb["summary_pb2"].Summary.Image(
            height=a.shape[0], width=a.shape[1], colorspace=a.shape[2],
            encoded_image_string=buf.getvalue())
        self._value(tag, global_step, walltime, image=img)

    def _text_value(self, tag, text):
        pb = self._pb
        from tensorboard.plugins.text import plugin_data_pb2

        meta = pb["summary_pb2"].SummaryMetadata(
            plugin_data=pb["summary_pb2"].SummaryMetadata.PluginData(
                plugin_name="text",
                content=plugin_data_pb2.TextPluginData(version=0).SerializeToString()))
        tensor = pb["tensor_pb2"].TensorProto(
            dtype="DT_STRING", string_val=[text.encode("utf-8")],
            tensor_shape=pb["tensor_shape_pb2"].TensorShapeProto(
                dim=[pb["tensor_shape_pb2"].TensorShapeProto.Dim(size=1)]))
        return dict(metadata=meta, tensor=tensor)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Text (Markdown) under ``tag/text_summary``, as PyTorch names it."""
        self._value(tag + "/text_summary", global_step, walltime,
                    **self._text_value(tag, str(text_string)))

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        """One run of a hyper-parameter search: its settings and final metrics,
        shown in TensorBoard's HPARAMS tab (written to ``log_dir/run_name``)."""
        from google.protobuf import struct_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise ArgumentError("add_hparams: hparam_dict and metric_dict must be "
                                "dicts")
        pb = self._pb["summary_pb2"]
        infos, values = [], {}
        for k, v in hparam_dict.items():
            if isinstance(v, bool):
                values[k] = struct_pb2.Value(bool_value=v)
                ty = api_pb2.DATA_TYPE_BOOL
            elif isinstance(v, (int, float)):
                values[k] = struct_pb2.Value(number_value=float(v))
                ty = api_pb2.DATA_TYPE_FLOAT64
            elif isinstance(v, str):
                values[k] = struct_pb2.Value(string_value=v)
                ty = api_pb2.DATA_TYPE_STRING
            else:
                raise ArgumentError(f"add_hparams: value of {k!r} must be a bool, "
                                    f"number or string, got {type(v).__name__}")
            infos.append(api_pb2.HParamInfo(name=k, type=ty))
        metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k))
                   for k in metric_dict]

        def summary(tag, **data):
            content = plugin_data_pb2.HParamsPluginData(
                version=metadata.PLUGIN_DATA_VERSION, **data).SerializeToString()
            meta = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(
                plugin_name=metadata.PLUGIN_NAME, content=content))
            return pb.Summary(value=[pb.Summary.Value(tag=tag, metadata=meta)])

        run = os.path.join(self.log_dir, run_name or str(time.time()))
        w = self._pb["EventFileWriter"](run, **self._opts)
        self._event(summary(metadata.EXPERIMENT_TAG, experiment=api_pb2.Experiment(
            hparam_infos=infos, metric_infos=metrics)), writer=w)
        start = plugin_data_pb2.SessionStartInfo()
        for k, v in values.items():
            start.hparams[k].CopyFrom(v)
        self._event(summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
                    writer=w)
        self._event(summary(metadata.SESSION_END_INFO_TAG,
                            session_end_info=plugin_data_pb2.SessionEndInfo(
                                status=api_pb2.STATUS_SUCCESS)), writer=w)
        for k, v in metric_dict.items():
            self._value(k, global_step, None, writer=w,
                        simple_value=_scalar(v, "add_hparams"))
        w.close()

    def add_graph(self, model, input_to_model=None, verbose=False,
                  use_strict_trace=True):
        """The graph of one forward pass of ``model`` on ``input_to_model``
        (a Tensor or tuple), for TensorBoard's GRAPHS tab: one node per
        primitive call, named ``module/path/op_k``, with output shapes."""
        from ..autograd import grad_mode
        from ..tensor import Tensor
        from ..viz._tape_read import Tape, is_node
        from ..viz.graph import _tensors, record_modules

        if input_to_model is None:
            raise ArgumentError("add_graph: pass input_to_model, an example input")
        args = (input_to_model if isinstance(input_to_model, tuple)
                else (input_to_model,))
        args = tuple(a.detach().requires_grad_() if isinstance(a, Tensor)
                     and a.is_floating_point() else a for a in args)
        with grad_mode.enable_grad(), record_modules(model) as rec:
            out = model(*args)
        roots = list(_tensors(out))
        tape = Tape(roots)
        pb = self._pb
        names = {id(t): n.replace(".", "/") for n, t in model.named_parameters()}
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                names[id(a)] = f"input/{i}"
        nodes, ids = [], {}

        def shape_attr(shape):
            ts = pb["tensor_shape_pb2"]
            return pb["attr_value_pb2"].AttrValue(list=pb["attr_value_pb2"].AttrValue
                                                  .ListValue(shape=[ts.TensorShapeProto(
                                                      dim=[ts.TensorShapeProto.Dim(size=s)
                                                           for s in shape])]))

        def leaf(t):
            if id(t) not in ids:
                name = names.get(id(t), f"leaf_{len(ids)}")
                ids[id(t)] = name
                nodes.append(pb["node_def_pb2"].NodeDef(
                    name=name, op="Parameter" if not name.startswith("input")
                    else "IO Node", attr={"_output_shapes": shape_attr(t.shape)}))
            return ids[id(t)]

        for k, node in enumerate(tape.order):
            path = rec.paths.get(id(node), "")
            scope = path.replace(".", "/")
            ids[id(node)] = (scope + "/" if scope else "") + f"{node.prim.name}_{k}"
        for k, node in enumerate(tape.order):
            inputs = []
            for e in node.edges:
                if e is not None:
                    inputs.append(ids[id(e[0])] if is_node(e[0]) else leaf(e[0]))
            shape = tape.out_shape(node, 0) or ()
            nodes.append(pb["node_def_pb2"].NodeDef(
                name=ids[id(node)], op=node.prim.name, input=inputs,
                attr={"_output_shapes": shape_attr(shape)}))
        graph = pb["graph_pb2"].GraphDef(node=nodes,
                                         versions=pb["versions_pb2"].VersionDef(
                                             producer=22))
        self._event(graph_def=graph.SerializeToString())
        if verbose:
            print(graph)

    def flush(self):
        self._writer.flush()
        for w in self._subs.values():
            w.flush()

    def close(self):
        self._writer.close()
        for w in self._subs.values():
            w.close()
        self._subs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


from ..train.callbacks import Callback  # noqa: E402


class TensorBoard(Callback):
    """Trainer callback: every epoch's logs (``loss``, metrics, ``val_*``,
    ``lr``) as scalars ``epoch/<key>`` at step = epoch number (from 1);
    with ``histogram_freq=k``, parameter histograms every k epochs; with
    ``write_graph`` and an ``example_input``, the model's graph once."""

    def __init__(self, log_dir="runs", histogram_freq=0, write_graph=False,
                 example_input=None):
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self.write_graph, self.example_input = write_graph, example_input
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = SummaryWriter(self.log_dir)
        if self.write_graph and self.example_input is not None:
            self.writer.add_graph(self.model, self.example_input)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float)):
                self.writer.add_scalar(f"epoch/{k}", v, epoch + 1)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            for name, p in self.model.named_parameters():
                self.writer.add_histogram(name, p, epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
