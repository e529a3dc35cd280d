package ecar.io;

import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, memory-mapped (no copy onto the heap; files over 2 GB work) and validated on open:
 * header length and JSON, dtypes, shapes, offsets inside the data section, byte counts equal to
 * shape × dtype size, no overlapping tensors and no unindexed bytes, and a string-to-string {@code __metadata__}.
 * Tensors are views into the mapping until converted; close the file when done with them.
 */
public final class SafeTensors implements AutoCloseable {
    /** Headers beyond this are refused as corrupt rather than read (the reference library uses the same cap). */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final Map<String, Entry> tensors;
    private final Map<String, String> metadata;

    /** One stored tensor: a view of its bytes in the mapped file. */
    public record Entry(String file, String name, DType dtype, Shape shape, MemorySegment bytes) {

        /** The elements converted to float32 (F32, F16 and BF16). */
        public float[] toFloats() {
            int n = shape.size();
            float[] out = new float[n];
            switch (dtype) {
                case F32 -> MemorySegment.copy(bytes, F32, 0, out, 0, n);
                case BF16 -> {
                    for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((bytes.getAtIndex(I16, i) & 0xffff) << 16);
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(bytes.getAtIndex(I16, i));
                }
                case I64 -> throw new SafeTensorsException(file + ": tensor '" + name + "' holds I64 integers, expected a float tensor");
            }
            return out;
        }

        public FloatTensor toFloatTensor() {
            return new FloatTensor(shape, toFloats());
        }

        /** The elements of an I64 tensor. */
        public long[] toLongs() {
            if (dtype != DType.I64) {
                throw new SafeTensorsException(file + ": tensor '" + name + "' holds " + dtype + ", expected I64 integers");
            }
            long[] out = new long[shape.size()];
            MemorySegment.copy(bytes, I64, 0, out, 0, out.length);
            return out;
        }
    }

    private SafeTensors(Path path, Arena arena, Map<String, Entry> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafeTensors open(Path path) {
        String file = path.toString();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(file + ": " + size + " bytes is too short for a safetensors file (it starts with an 8-byte header length)");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Parsed p = parse(file, all);
            return new SafeTensors(path, arena, p.tensors, p.metadata);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new SafeTensorsException(file + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new SafeTensorsException(file + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private record Parsed(Map<String, Entry> tensors, Map<String, String> metadata) {}

    private static Parsed parse(String file, MemorySegment all) {
        long size = all.byteSize();
        long headerLen = all.get(I64, 0);
        if (headerLen < 2 || headerLen > size - 8) {
            throw new SafeTensorsException(file + ": header length " + headerLen + " does not fit the file of " + size
                    + " bytes (8-byte length + header + data); the file is truncated or not safetensors");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file + ": header length " + headerLen + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(file + ": header is not valid UTF-8");
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(header);
        } catch (Json.JsonException e) {
            throw new SafeTensorsException(file + ": header is not a valid JSON object: " + e.getMessage());
        }

        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        MemorySegment data = all.asSlice(dataStart, dataLen);
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> tensors = new LinkedHashMap<>();
        List<long[]> spans = new ArrayList<>();
        List<String> spanNames = new ArrayList<>();

        for (Map.Entry<String, Object> e : json.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> m)) {
                    throw new SafeTensorsException(file + ": __metadata__ must be an object of strings, found " + Json.typeName(e.getValue()));
                }
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) {
                        throw new SafeTensorsException(file + ": __metadata__ entry '" + me.getKey() + "' must be a string, found " + Json.typeName(me.getValue()));
                    }
                    metadata.put((String) me.getKey(), v);
                }
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            if (!(e.getValue() instanceof Map<?, ?> info)) {
                throw new SafeTensorsException(where + ": expected an object with dtype, shape and data_offsets, found " + Json.typeName(e.getValue()));
            }
            if (!(info.get("dtype") instanceof String dtypeName)) {
                throw new SafeTensorsException(where + ": missing or non-string \"dtype\"");
            }
            DType dtype = DType.fromSafetensors(dtypeName);
            if (dtype == null) {
                throw new SafeTensorsException(where + ": dtype " + dtypeName + " is not supported (F32, F16, BF16, I64)");
            }
            long[] dims = longList(info.get("shape"), where, "shape", -1);
            long[] offsets = longList(info.get("data_offsets"), where, "data_offsets", 2);
            long numel = 1;
            for (long d : dims) {
                if (d < 0) throw new SafeTensorsException(where + ": negative dimension in shape " + java.util.Arrays.toString(dims));
                if (d > Integer.MAX_VALUE || (d > 0 && numel > Long.MAX_VALUE / 8 / d)) {
                    throw new SafeTensorsException(where + ": shape " + java.util.Arrays.toString(dims) + " is too large");
                }
                numel *= d;
            }
            long begin = offsets[0], end = offsets[1];
            if (begin < 0 || end < begin) {
                throw new SafeTensorsException(where + ": data_offsets [" + begin + ", " + end + "] are not an increasing pair");
            }
            if (end > dataLen) {
                throw new SafeTensorsException(where + ": data_offsets [" + begin + ", " + end + "] run past the data section of "
                        + dataLen + " bytes (file truncated?)");
            }
            long expected = numel * dtype.bytes;
            if (end - begin != expected) {
                throw new SafeTensorsException(where + ": " + (end - begin) + " bytes stored for shape "
                        + java.util.Arrays.toString(dims) + " of " + dtype + ", expected " + expected);
            }
            int[] idims = new int[dims.length];
            for (int k = 0; k < dims.length; k++) idims[k] = (int) dims[k];
            tensors.put(name, new Entry(file, name, dtype, new Shape(idims), data.asSlice(begin, end - begin)));
            spans.add(new long[]{begin, end, spanNames.size()});
            spanNames.add(name);
        }

        spans.sort(Comparator.comparingLong((long[] s) -> s[0]).thenComparingLong(s -> s[1]));
        long covered = 0;
        for (int k = 0; k < spans.size(); k++) {
            long[] s = spans.get(k);
            if (s[0] < covered) {
                long[] prev = spans.get(k - 1);
                throw new SafeTensorsException(file + ": tensors '" + spanNames.get((int) prev[2]) + "' [" + prev[0] + ", " + prev[1]
                        + ") and '" + spanNames.get((int) s[2]) + "' [" + s[0] + ", " + s[1] + ") overlap");
            }
            if (s[0] > covered) {
                throw new SafeTensorsException(file + ": bytes [" + covered + ", " + s[0] + ") of the data section belong to no tensor");
            }
            covered = s[1];
        }
        if (covered != dataLen) {
            throw new SafeTensorsException(file + ": bytes [" + covered + ", " + dataLen + ") at the end of the data section belong to no tensor");
        }
        return new Parsed(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static long[] longList(Object v, String where, String key, int expectedLength) {
        if (!(v instanceof List<?> l)) {
            throw new SafeTensorsException(where + ": missing or non-list \"" + key + "\"");
        }
        if (expectedLength >= 0 && l.size() != expectedLength) {
            throw new SafeTensorsException(where + ": \"" + key + "\" must have " + expectedLength + " entries, found " + l.size());
        }
        long[] out = new long[l.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(l.get(k) instanceof Long n)) {
                throw new SafeTensorsException(where + ": \"" + key + "\" must hold whole numbers, found " + l.get(k));
            }
            out[k] = n;
        }
        return out;
    }

    public Path path() {
        return path;
    }

    /** Tensor names in file order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public Map<String, Entry> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Entry get(String name) {
        Entry e = tensors.get(name);
        if (e == null) throw new SafeTensorsException(path + ": no tensor named '" + name + "'");
        return e;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file; views taken from it become invalid. */
    @Override
    public void close() {
        arena.close();
    }
}
