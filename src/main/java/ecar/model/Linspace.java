package ecar.model;

/** Evenly spaced grids in float64, each exactly as its library computes them (schedules are compared to 1e-9). */
public final class Linspace {
    private Linspace() {}

    /** np.linspace(a, b, n): a + i·step, the last point exact. */
    public static double[] numpy(double a, double b, int n) {
        double[] r = new double[n];
        if (n == 1) {
            r[0] = a;
            return r;
        }
        double step = (b - a) / (n - 1);
        for (int i = 0; i < n; i++) r[i] = a + i * step;
        r[n - 1] = b;
        return r;
    }

    /** torch.linspace: the first half counts up from start, the second half down from end, as PyTorch's kernel does. */
    public static double[] torch(double start, double end, int steps) {
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
