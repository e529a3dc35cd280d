package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.KernelModule;
import ecar.cuda.LaunchShape;
import ecar.cuda.Stream;

/** Launches of kernels/flow.cu (f32 sampler state). */
public final class Flow {
    private Flow() {}

    public static final String FAMILY = "flow";

    static final String FLOW_EULER_GUIDED = "flow_euler_guided(ptr x, ptr v, i64 half, f32 dt, f32 w, i32 vec4)";
    static final String FLOW_EULER_GUIDED_DEV = "flow_euler_guided_dev(ptr x, ptr v, i64 half, ptr scalars, i32 vec4)";
    static final String FLOW_EULER = "flow_euler(ptr x, ptr v, i64 n, f32 dt)";
    static final String FLOW_EULER_DEV = "flow_euler_dev(ptr x, ptr v, i64 n, ptr scalars)";
    static final String STAGE_JUMP = "stage_jump(ptr out, ptr x, ptr? eps, i32 batch, i32 side, i32 channels, f32 alpha, f32 beta, "
            + "f32 amp, f32 c, u64 seed, u32 stream, u32 firstImage, i64 perImage)";
    static final String RANDN = "randn(ptr out, i64 n, u64 seed, u32 stream, u32 firstImage, i64 perImage)";
    static final String CFG_COMBINE_CHANNELS = "cfg_combine_channels(ptr out, i32 n, i32 co, i32 hw, i32 guided, f32 s)";
    static final String CFG_COMBINE_CHANNELS_DEV = "cfg_combine_channels_dev(ptr out, i32 n, i32 co, i32 hw, i32 guided, ptr scale)";
    static final String FIRST_NONFINITE = "first_nonfinite(ptr x, i64 n, i32 step, ptr first)";
    static final String COND_TWICE = "cond_twice(ptr out, ptr x, i64 half)";

    /** Every signature this class launches (checked against the PTX parameter lists by a test). */
    static java.util.List<String> signatures() {
        return java.util.List.of(FLOW_EULER_GUIDED, FLOW_EULER_GUIDED_DEV, FLOW_EULER, FLOW_EULER_DEV, STAGE_JUMP, RANDN, CFG_COMBINE_CHANNELS,
                CFG_COMBINE_CHANNELS_DEV, FIRST_NONFINITE, COND_TWICE);
    }

    /** x += dt·(v_u + w(v_c − v_u)) on both halves of [2·half] f32 x, v. */
    public static void eulerGuided(Stream s, DeviceAddress x, DeviceAddress v, long half, float dt, float w) {
        boolean vec4 = half % 4 == 0 && x.address() % 16 == 0 && v.address() % 16 == 0;
        KernelModule.get(FAMILY).kernel(FLOW_EULER_GUIDED)
                .launch(LaunchShape.linear(vec4 ? half / 4 : half, 256), s, x, v, half, dt, w, vec4 ? 1 : 0);
    }

    /** As eulerGuided with dt = scalars[0], w = scalars[1] read on the device (graph replay with per-step values). */
    public static void eulerGuidedDev(Stream s, DeviceAddress x, DeviceAddress v, long half, DeviceAddress scalars) {
        boolean vec4 = half % 4 == 0 && x.address() % 16 == 0 && v.address() % 16 == 0;
        KernelModule.get(FAMILY).kernel(FLOW_EULER_GUIDED_DEV)
                .launch(LaunchShape.linear(vec4 ? half / 4 : half, 256), s, x, v, half, scalars, vec4 ? 1 : 0);
    }

    public static void euler(Stream s, DeviceAddress x, DeviceAddress v, long n, float dt) {
        KernelModule.get(FAMILY).kernel(FLOW_EULER).launch(LaunchShape.linear(n, 256), s, x, v, n, dt);
    }

    /** x += dt·v with dt = scalars[0] read on the device (graph replay). */
    public static void eulerDev(Stream s, DeviceAddress x, DeviceAddress v, long n, DeviceAddress scalars) {
        KernelModule.get(FAMILY).kernel(FLOW_EULER_DEV).launch(LaunchShape.linear(n, 256), s, x, v, n, scalars);
    }

    /** out [B, (2r)², C] = α·up2(x) + (β·amp)·(ε − c·mean₂ₓ₂ ε); eps null: Philox(seed, stream) by flat index of out. */
    public static void stageJump(Stream s, DeviceAddress out, DeviceAddress x, DeviceAddress eps, int batch, int side, int channels,
                                 float alpha, float beta, float amp, float c, long seed, int noiseStream) {
        stageJump(s, out, x, eps, batch, side, channels, alpha, beta, amp, c, seed, noiseStream, 0, 0);
    }

    /**
     * As above with Philox noise per image when {@code perImage} &gt; 0: row b of out draws image firstImage + b (element j
     * at Philox.imageIndex(firstImage + b, j)); perImage must then be one row of out, (2r)²·C.
     */
    public static void stageJump(Stream s, DeviceAddress out, DeviceAddress x, DeviceAddress eps, int batch, int side, int channels,
                                 float alpha, float beta, float amp, float c, long seed, int noiseStream, int firstImage, long perImage) {
        imageRun("stageJump", firstImage, perImage, 4L * side * side * channels);
        KernelModule.get(FAMILY).kernel(STAGE_JUMP).launch(LaunchShape.linear((long) batch * side * side * channels, 256), s, out, x, eps,
                batch, side, channels, alpha, beta, amp, c, seed, noiseStream, firstImage, perImage);
    }

    public static void randn(Stream s, DeviceAddress out, long n, long seed, int noiseStream) {
        randn(s, out, n, seed, noiseStream, 0, 0);
    }

    /** out[i] = Philox normal of image firstImage + i / perImage, element i mod perImage (perImage 0: of flat index i). */
    public static void randn(Stream s, DeviceAddress out, long n, long seed, int noiseStream, int firstImage, long perImage) {
        imageRun("randn", firstImage, perImage, perImage);
        if (perImage > 0 && n % perImage != 0) throw new IllegalArgumentException("randn: " + n + " elements are not whole images of " + perImage);
        KernelModule.get(FAMILY).kernel(RANDN).launch(LaunchShape.linear(n, 256), s, out, n, seed, noiseStream, firstImage, perImage);
    }

    /** A run of images the kernels can number: perImage 0 (flat) or one row's elements, below 2³², first image not negative. */
    static void imageRun(String op, int firstImage, long perImage, long rowElements) {
        if (perImage == 0 && firstImage == 0) return;
        if (firstImage < 0 || perImage != rowElements || perImage <= 0 || perImage >= 1L << 32) {
            throw new IllegalArgumentException(op + ": images from " + firstImage + " of " + perImage + " elements; expected a first image >= 0 and "
                    + rowElements + " elements per image (one row, below 2^32)");
        }
    }

    public static void cfgCombineChannels(Stream s, DeviceAddress out, int n, int co, int hw, int guided, float scale) {
        KernelModule.get(FAMILY).kernel(CFG_COMBINE_CHANNELS)
                .launch(LaunchShape.linear((long) n * guided * hw, 256), s, out, n, co, hw, guided, scale);
    }

    /** As cfgCombineChannels with the scale read from device memory at {@code scale} (graph replay). */
    public static void cfgCombineChannelsDev(Stream s, DeviceAddress out, int n, int co, int hw, int guided, DeviceAddress scale) {
        KernelModule.get(FAMILY).kernel(CFG_COMBINE_CHANNELS_DEV)
                .launch(LaunchShape.linear((long) n * guided * hw, 256), s, out, n, co, hw, guided, scale);
    }

    /** Lowers the int at {@code first} to {@code step} when any of the n floats is not finite (the caller sets it to Integer.MAX_VALUE). */
    public static void firstNonFinite(Stream s, DeviceAddress x, long n, int step, DeviceAddress first) {
        KernelModule.get(FAMILY).kernel(FIRST_NONFINITE).launch(LaunchShape.linear(n, 256), s, x, n, step, first);
    }

    public static void condTwice(Stream s, DeviceAddress out, DeviceAddress x, long half) {
        KernelModule.get(FAMILY).kernel(COND_TWICE).launch(LaunchShape.linear(half, 256), s, out, x, half);
    }
}
