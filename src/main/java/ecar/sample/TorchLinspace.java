package ecar.sample;

/** torch.linspace in float64: the first half counts up from start, the second half down from end, as PyTorch's kernel does. */
final class TorchLinspace {
    private TorchLinspace() {}

    static double[] of(double start, double end, int steps) {
        double[] r = new double[steps];
        if (steps == 1) {
            r[0] = start;
            return r;
        }
        double step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) r[i] = i < half ? start + step * i : end - step * (steps - i - 1);
        return r;
    }
}
