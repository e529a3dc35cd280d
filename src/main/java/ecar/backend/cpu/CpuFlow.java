package ecar.backend.cpu;

import ecar.backend.Noise;

/** CPU twin of kernels/flow.cu: the guided Euler step of the flow ODE and the ECAR stage jump. */
final class CpuFlow {
    private CpuFlow() {}

    /** x += dt·v; with guidance v = v_u + w(v_c − v_u) from v's halves, applied to both halves of x. */
    static void eulerStep(float[] x, float[] v, float dt, float w, boolean guided) {
        if (!guided) {
            for (int i = 0; i < x.length; i++) x[i] += dt * v[i];
            return;
        }
        int half = x.length / 2;
        for (int i = 0; i < half; i++) {
            float vc = v[i], vu = v[half + i];
            float d = vu + w * (vc - vu);
            x[i] += dt * d;
            x[half + i] += dt * d;
        }
    }

    /** x [B, r², C] → α·up2(x) + β·blockNoise(eps) of [B, (2r)², C]. */
    static void stageJump(float[] out, float[] x, int batch, int side, int c, float alpha, float beta, float gamma, float[] eps) {
        int s2 = 2 * side, l2 = s2 * s2;
        float cc = Noise.blockNoiseC(gamma), amp = (float) Math.sqrt(1.0 + gamma);
        for (int b = 0; b < batch; b++)
            for (int by = 0; by < side; by++)
                for (int bx = 0; bx < side; bx++)
                    for (int ch = 0; ch < c; ch++) {
                        int t00 = (2 * by) * s2 + 2 * bx, t01 = t00 + 1, t10 = t00 + s2, t11 = t10 + 1;
                        int base = b * l2 * c + ch;
                        float e00 = eps[base + t00 * c], e01 = eps[base + t01 * c], e10 = eps[base + t10 * c], e11 = eps[base + t11 * c];
                        float mean = 0.25f * (e00 + e01 + e10 + e11);
                        float up = alpha * x[(b * side * side + by * side + bx) * c + ch];
                        out[base + t00 * c] = up + beta * amp * (e00 - cc * mean);
                        out[base + t01 * c] = up + beta * amp * (e01 - cc * mean);
                        out[base + t10 * c] = up + beta * amp * (e10 - cc * mean);
                        out[base + t11 * c] = up + beta * amp * (e11 - cc * mean);
                    }
    }
}
