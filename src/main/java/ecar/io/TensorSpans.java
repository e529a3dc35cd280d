package ecar.io;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The byte ranges that a safetensors header gives its tensors, checked to tile the data section exactly:
 * no two overlap, no bytes between or after them belong to no tensor.
 */
final class TensorSpans {
    private record Span(long begin, long end, String name) {}

    private final String file;
    private final List<Span> spans = new ArrayList<>();

    TensorSpans(String file) {
        this.file = file;
    }

    void add(String name, long begin, long end) {
        spans.add(new Span(begin, end, name));
    }

    void checkTiling(long dataLen) {
        spans.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        long covered = 0;
        for (int k = 0; k < spans.size(); k++) {
            Span s = spans.get(k);
            if (s.begin < covered) {
                Span prev = spans.get(k - 1);
                throw new SafeTensorsException(file + ": tensors '" + JsonErrors.shown(prev.name) + "' [" + prev.begin + ", " + prev.end
                        + ") and '" + JsonErrors.shown(s.name) + "' [" + s.begin + ", " + s.end + ") overlap");
            }
            if (s.begin > covered) {
                throw new SafeTensorsException(file + ": bytes [" + covered + ", " + s.begin + ") of the data section belong to no tensor");
            }
            covered = s.end;
        }
        if (covered != dataLen) {
            throw new SafeTensorsException(file + ": bytes [" + covered + ", " + dataLen + ") at the end of the data section belong to no tensor");
        }
    }
}
