package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/embed.cu: timestep sinusoid, patchify/unpatchify, NCHW↔NHWC, bicubic and area resize (PyTorch's
 * arithmetic). CPU twins: {@code Backend.timestepEmbedding, patchify, unpatchify, nchwToNhwc, nhwcToNchw,
 * resizeBicubic, resizeArea}. All float32 unless noted.
 */
public final class EmbedKernels {
    private final Launcher launcher;

    public EmbedKernels(Launcher launcher) {
        this.launcher = launcher;
    }

    /** out [count, dim] = [cos(t·f), sin(t·f)] for t [count]. */
    public void timestep(DeviceAddress out, DeviceAddress t, int count, int dim) {
        String op = "timestepEmbedding";
        positive(op, "count", count);
        positive(op, "dim", dim);
        that(dim % 2 == 0, op, "dimension " + dim + " must be even");
        buffer(op, "t", t, 4L * count, 4, "[" + count + "] f32");
        buffer(op, "out", out, 4L * count * dim, 4, "[" + count + ", " + dim + "] f32");
        launcher.launch("embed", "timestep_embedding(ptr out, ptr t, i32 count, i32 half)",
                LaunchShape.linear((long) count * (dim / 2), 256), out, t, count, dim / 2);
    }

    /** out [count, dim]: every row the sinusoid of the one time at device address t (a captured step's scalar). */
    public void timestepDev(DeviceAddress out, DeviceAddress t, int count, int dim) {
        String op = "timestepEmbedding (device time)";
        positive(op, "count", count);
        positive(op, "dim", dim);
        that(dim % 2 == 0, op, "dimension " + dim + " must be even");
        buffer(op, "t", t, 4, 4, "one f32");
        buffer(op, "out", out, 4L * count * dim, 4, "[" + count + ", " + dim + "] f32");
        launcher.launch("embed", "timestep_embedding_dev(ptr out, ptr t, i32 count, i32 half)",
                LaunchShape.linear((long) count * (dim / 2), 256), out, t, count, dim / 2);
    }

    /** [N, C, H, W] f32 → [N, (H/p)(W/p), C·p·p] (f32 or bf16), features in (c, kh, kw) order. */
    public void patchify(DeviceAddress out, Precision prec, DeviceAddress x, int n, int c, int h, int w, int p) {
        String op = "patchify";
        dims(op, n, c, h, w);
        positive(op, "p", p);
        that(h % p == 0 && w % p == 0, op, "image " + h + "×" + w + " is not a whole number of " + p + "×" + p + " patches");
        long total = (long) n * c * h * w;
        buffer(op, "x", x, 4 * total, 4, "[" + n + ", " + c + ", " + h + ", " + w + "] f32");
        buffer(op, "out", out, prec.bytes * total, prec.bytes, "[" + n + ", " + (h / p) * (w / p) + ", " + c * p * p + "] " + prec.suffix);
        launcher.launch("embed", "patchify_" + prec.suffix + "(ptr out, ptr x, i32 n, i32 c, i32 h, i32 w, i32 p)",
                LaunchShape.linear(total, 256), out, x, n, c, h, w, p);
    }

    /** [N, h·w, p·p·C] in (kh, kw, c) order → [N, C, h·p, w·p]. */
    public void unpatchify(DeviceAddress out, DeviceAddress x, int n, int p, int c, int h, int w) {
        String op = "unpatchify";
        dims(op, n, c, h, w);
        positive(op, "p", p);
        long total = (long) n * c * h * w * p * p;
        buffer(op, "x", x, 4 * total, 4, "[" + n + ", " + h * w + ", " + p * p * c + "] f32");
        buffer(op, "out", out, 4 * total, 4, "[" + n + ", " + c + ", " + h * p + ", " + w * p + "] f32");
        launcher.launch("embed", "unpatchify(ptr out, ptr x, i32 n, i32 p, i32 c, i32 h, i32 w)",
                LaunchShape.linear(total, 256), out, x, n, p, c, h, w);
    }

    /** [N, A, B] → [N, B, A] f32: NCHW → NHWC with (A, B) = (C, H·W); NHWC → NCHW with (H·W, C). */
    public void transpose(DeviceAddress out, DeviceAddress x, int n, int a, int b) {
        transpose(out, Precision.F32, x, n, a, b);
    }

    /** As {@link #transpose(DeviceAddress, DeviceAddress, int, int, int)}, output f32 or bf16 (Vᵀ for a P·V GEMM). */
    public void transpose(DeviceAddress out, Precision p, DeviceAddress x, int n, int a, int b) {
        String op = "transpose";
        positive(op, "N", n);
        positive(op, "A", a);
        positive(op, "B", b);
        that(n <= 65535 && OpCheck.ceilDiv(a, 32) <= 65535, op, "N = " + n + " or A = " + a + " too large for the grid");
        long total = (long) n * a * b;
        buffer(op, "x", x, 4 * total, 4, "[" + n + ", " + a + ", " + b + "] f32");
        buffer(op, "out", out, p.bytes * total, p.bytes, "[" + n + ", " + b + ", " + a + "] " + p.suffix);
        launcher.launch("embed", (p == Precision.F32 ? "transpose_batched" : "transpose_batched_bf16") + "(ptr out, ptr x, i32 a, i32 b)",
                new LaunchShape(OpCheck.ceilDiv(b, 32), OpCheck.ceilDiv(a, 32), n, 32, 8, 1, 0), out, x, a, b);
    }

    /** Bicubic resize of [N, H, W, C] to [N, OH, OW, C] (align_corners=False, A = −0.75, border clamped). */
    public void resizeBicubic(DeviceAddress out, DeviceAddress x, int n, int h, int w, int c, int oh, int ow) {
        resize("resizeBicubic", "resize_bicubic", out, x, n, h, w, c, oh, ow);
    }

    /** Area resize (adaptive average pooling) of [N, H, W, C] to [N, OH, OW, C]. */
    public void resizeArea(DeviceAddress out, DeviceAddress x, int n, int h, int w, int c, int oh, int ow) {
        resize("resizeArea", "resize_area", out, x, n, h, w, c, oh, ow);
    }

    private void resize(String op, String kernel, DeviceAddress out, DeviceAddress x, int n, int h, int w, int c, int oh, int ow) {
        dims(op, n, c, h, w);
        positive(op, "OH", oh);
        positive(op, "OW", ow);
        buffer(op, "x", x, 4L * n * h * w * c, 4, "[" + n + ", " + h + ", " + w + ", " + c + "] f32");
        long total = (long) n * oh * ow * c;
        buffer(op, "out", out, 4 * total, 4, "[" + n + ", " + oh + ", " + ow + ", " + c + "] f32");
        launcher.launch("embed", kernel + "(ptr out, ptr x, i32 n, i32 h, i32 w, i32 c, i32 oh, i32 ow)",
                LaunchShape.linear(total, 256), out, x, n, h, w, c, oh, ow);
    }

    /**
     * out [ids.length, width] f32 = rows of table [rows, width] (bf16 or f32) at ids; {@code deviceIds} holds the same
     * ids as int32 on the device, {@code ids} is checked here (an id outside the table is named).
     */
    public void embedding(DeviceAddress out, DeviceAddress table, Precision tablePrecision, int rows, int width, DeviceAddress deviceIds, int[] ids) {
        String op = "embedding";
        positive(op, "rows", rows);
        positive(op, "width", width);
        positive(op, "ids", ids.length);
        for (int i = 0; i < ids.length; i++) {
            that(ids[i] >= 0 && ids[i] < rows, op, "id " + ids[i] + " (position " + i + ") outside the table's " + rows + " rows");
        }
        buffer(op, "table", table, (long) tablePrecision.bytes * rows * width, tablePrecision.bytes, "[" + rows + ", " + width + "] " + tablePrecision.suffix);
        buffer(op, "ids", deviceIds, 4L * ids.length, 4, "[" + ids.length + "] int32");
        buffer(op, "out", out, 4L * ids.length * width, 4, "[" + ids.length + ", " + width + "] f32");
        launcher.launch("embed", "embedding_" + tablePrecision.suffix + "(ptr out, ptr table, ptr ids, i32 count, i32 rows, i32 width)",
                LaunchShape.linear((long) ids.length * width, 256), out, table, deviceIds, ids.length, rows, width);
    }

    /**
     * out [count, width] f32 = rows of table [rows, width] (bf16 or f32) at ids, {@code count} float32 exact integers in
     * device memory (drawn tokens, which the host cannot check inside a captured generation): an id that is not an
     * integer in [0, rows) gives a row of NaN.
     */
    public void embeddingByDeviceIds(DeviceAddress out, DeviceAddress table, Precision tablePrecision, int rows, int width, DeviceAddress ids, int count) {
        String op = "embedding (device ids)";
        positive(op, "rows", rows);
        positive(op, "width", width);
        positive(op, "ids", count);
        buffer(op, "table", table, (long) tablePrecision.bytes * rows * width, tablePrecision.bytes, "[" + rows + ", " + width + "] " + tablePrecision.suffix);
        buffer(op, "ids", ids, 4L * count, 4, "[" + count + "] f32");
        buffer(op, "out", out, 4L * count * width, 4, "[" + count + ", " + width + "] f32");
        launcher.launch("embed", "embedding_ids_" + tablePrecision.suffix + "(ptr out, ptr table, ptr ids, i32 count, i32 rows, i32 width)",
                LaunchShape.linear((long) count * width, 256), out, table, ids, count, rows, width);
    }

    /**
     * out = x [batch, l, width] rotated by rows of RoPE tables cos/sin [tableRows, headDim/2]: token t of every sample
     * by row rows[t] (f32 exact integers, [l]); a row outside the table gives NaN.
     */
    public void ropeRows(DeviceAddress out, DeviceAddress x, DeviceAddress rows, int batch, int l, int width, int headDim,
                         DeviceAddress cos, DeviceAddress sin, int tableRows) {
        String op = "ropeRows";
        positive(op, "batch", batch);
        positive(op, "L", l);
        positive(op, "head_dim", headDim);
        positive(op, "table rows", tableRows);
        that(headDim % 2 == 0 && width % headDim == 0, op, "width " + width + " must be a multiple of an even head size, got " + headDim);
        long n = (long) batch * l * width;
        buffer(op, "x", x, 4 * n, 8, "[" + batch + ", " + l + ", " + width + "] f32");
        buffer(op, "out", out, 4 * n, 8, "[" + batch + ", " + l + ", " + width + "] f32");
        buffer(op, "rows", rows, 4L * l, 4, "[" + l + "] f32");
        buffer(op, "cos", cos, 2L * tableRows * headDim, 4, "[" + tableRows + ", " + headDim / 2 + "] f32");
        buffer(op, "sin", sin, 2L * tableRows * headDim, 4, "[" + tableRows + ", " + headDim / 2 + "] f32");
        OpCheck.disjoint(op, "out", out, "x", x);
        launcher.launch("embed", "rope_rows_f32(ptr out, ptr x, ptr rows, i32 batch, i32 l, i32 width, i32 head_dim, ptr rope_cos, ptr rope_sin, "
                + "i32 table_rows)", LaunchShape.linear(n / 2, 256), out, x, rows, batch, l, width, headDim, cos, sin, tableRows);
    }

    private static void dims(String op, int n, int c, int h, int w) {
        positive(op, "N", n);
        positive(op, "C", c);
        positive(op, "H", h);
        positive(op, "W", w);
    }
}
