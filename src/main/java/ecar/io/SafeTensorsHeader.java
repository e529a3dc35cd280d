package ecar.io;

import com.fasterxml.jackson.core.JsonToken;
import ecar.io.SafeTensors.Entry;
import ecar.tensor.DType;
import ecar.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a safetensors header token by token straight into its tensor entries, checking each as it comes: no
 * map-of-maps tree of the whole header is built, so a header of a million tensors costs the entries and little
 * more. The JSON rules and limits are {@link JsonCursor}'s; the counts are capped here.
 */
final class SafeTensorsHeader {
    private SafeTensorsHeader() {}

    /**
     * The largest public checkpoints (mixture-of-experts models that store every expert's matrices apart) hold
     * on the order of 100,000 tensors across all their shards, and ours a few thousand; a million in one file is
     * ten times the first. Measured: a header of a million empty tensors (60 MB) opens in under 4 s and keeps
     * about 200 MB of entries, within -Xmx384m; without the cap, a 100 MB header of tiny entries could list two million.
     */
    static final int MAX_TENSORS = 1_000_000;
    /** Training tools write up to a few hundred metadata keys; this keeps a header from spending its bytes on a huge map. */
    static final int MAX_METADATA_ENTRIES = 10_000;
    /** NumPy's limit on dimensions (64 since 2.0); PyTorch models use at most 5 or 6. */
    static final int MAX_RANK = 64;
    /** Metadata may carry a whole config or a small base64 thumbnail; a string beyond this is not metadata. */
    static final int MAX_STRING_CHARS = 16 << 20;

    static final JsonLimits LIMITS = new JsonLimits(SafeTensors.MAX_HEADER_BYTES, JsonLimits.MAX_DEPTH, MAX_STRING_CHARS,
            JsonLimits.MAX_KEY_CHARS, JsonLimits.MAX_NUMBER_CHARS);

    record Parsed(Map<String, Entry> tensors, Map<String, String> metadata) {}

    /** The entries of {@code header} (the JSON bytes), as views of {@code data} (the data section). */
    static Parsed read(String file, MemorySegment header, MemorySegment data) {
        return read(file, header, data, MAX_TENSORS);
    }

    /** As {@link #read(String, MemorySegment, MemorySegment)} with another cap on tensors, so that tests can reach it cheaply. */
    static Parsed read(String file, MemorySegment header, MemorySegment data, int maxTensors) {
        Map<String, Entry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        TensorSpans spans = new TensorSpans(file);
        try (JsonCursor c = JsonCursor.of(new Utf8HeaderReader(file, header.asByteBuffer()), LIMITS)) {
            if (c.next() != JsonToken.START_OBJECT) throw c.error("expected a JSON object, found " + c.found());
            boolean sawMetadata = false;
            while (c.next() == JsonToken.FIELD_NAME) {
                String name = c.key();
                if (name.equals("__metadata__")) {
                    if (sawMetadata) throw c.error("duplicate key \"__metadata__\"");
                    sawMetadata = true;
                    c.next();
                    readMetadata(c, file, metadata);
                    continue;
                }
                if (tensors.containsKey(name)) throw c.error("duplicate key \"" + JsonErrors.shown(name) + "\"");
                if (tensors.size() == maxTensors) {
                    throw new SafeTensorsException(file + ": header lists more than " + maxTensors + " tensors, the limit for one file");
                }
                c.next();
                tensors.put(name, readTensor(c, file, name, data, spans));
            }
            c.end();
        } catch (Json.JsonException e) {
            throw new SafeTensorsException(file + ": header is not a valid JSON object: " + e.getMessage());
        }
        spans.checkTiling(data.byteSize());
        return new Parsed(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(JsonCursor c, String file, Map<String, String> into) {
        if (c.token() != JsonToken.START_OBJECT) {
            throw new SafeTensorsException(file + ": __metadata__ must be an object of strings, found " + c.found());
        }
        while (c.next() == JsonToken.FIELD_NAME) {
            String key = c.key();
            if (into.containsKey(key)) throw c.error("duplicate key \"" + JsonErrors.shown(key) + "\" in __metadata__");
            if (into.size() == MAX_METADATA_ENTRIES) {
                throw new SafeTensorsException(file + ": __metadata__ has more than " + MAX_METADATA_ENTRIES + " entries, the limit");
            }
            if (c.next() != JsonToken.VALUE_STRING) {
                throw new SafeTensorsException(file + ": __metadata__ entry '" + JsonErrors.shown(key) + "' must be a string, found " + c.found());
            }
            into.put(key, c.string());
        }
    }

    /** One tensor's {dtype, shape, data_offsets}, checked against the data section; other keys are skipped. */
    private static Entry readTensor(JsonCursor c, String file, String name, MemorySegment data, TensorSpans spans) {
        if (c.token() != JsonToken.START_OBJECT) {
            throw new SafeTensorsException(where(file, name) + ": expected an object with dtype, shape and data_offsets, found " + c.found());
        }
        String dtypeName = null;
        long[] dims = null, offsets = null;
        while (c.next() == JsonToken.FIELD_NAME) {
            String key = c.key();
            boolean repeated = switch (key) {
                case "dtype" -> dtypeName != null;
                case "shape" -> dims != null;
                case "data_offsets" -> offsets != null;
                default -> false;
            };
            if (repeated) throw c.error("duplicate key \"" + key + "\" in tensor '" + JsonErrors.shown(name) + "'");
            c.next();
            switch (key) {
                case "dtype" -> {
                    if (c.token() != JsonToken.VALUE_STRING) throw new SafeTensorsException(where(file, name) + ": missing or non-string \"dtype\"");
                    dtypeName = c.string();
                }
                case "shape" -> dims = wholeNumbers(c, file, name, "shape", MAX_RANK);
                case "data_offsets" -> offsets = wholeNumbers(c, file, name, "data_offsets", 2);
                default -> c.skipValue();
            }
        }
        if (dtypeName == null) throw new SafeTensorsException(where(file, name) + ": missing or non-string \"dtype\"");
        if (dims == null) throw new SafeTensorsException(where(file, name) + ": missing or non-list \"shape\"");
        if (offsets == null) throw new SafeTensorsException(where(file, name) + ": missing or non-list \"data_offsets\"");
        if (offsets.length != 2) {
            throw new SafeTensorsException(where(file, name) + ": \"data_offsets\" must have 2 entries, found " + offsets.length);
        }
        Entry e = entry(file, name, dtypeName, dims, offsets[0], offsets[1], data);
        spans.add(name, offsets[0], offsets[1]);
        return e;
    }

    /** A list of whole numbers that fit a long; more than {@code max} of them is an error. */
    private static long[] wholeNumbers(JsonCursor c, String file, String name, String key, int max) {
        if (c.token() != JsonToken.START_ARRAY) throw new SafeTensorsException(where(file, name) + ": missing or non-list \"" + key + "\"");
        long[] out = new long[Math.min(max, 8)];
        int n = 0;
        while (c.next() != JsonToken.END_ARRAY) {
            Number v = c.token() == JsonToken.VALUE_NUMBER_INT ? c.number() : null;
            if (!(v instanceof Long l)) {
                String found = c.token() == JsonToken.VALUE_NUMBER_INT || c.token() == JsonToken.VALUE_NUMBER_FLOAT
                        ? String.valueOf(c.number()) : c.found();
                throw new SafeTensorsException(where(file, name) + ": \"" + key + "\" must hold whole numbers (64-bit), found " + found);
            }
            if (n == max) {
                throw new SafeTensorsException(where(file, name) + (key.equals("shape") ? ": shape has more than " + max + " dimensions, the limit"
                        : ": \"" + key + "\" must have " + max + " entries, found more"));
            }
            if (n == out.length) out = Arrays.copyOf(out, Math.min(max, 2 * n));
            out[n++] = l;
        }
        return Arrays.copyOf(out, n);
    }

    private static Entry entry(String file, String name, String dtypeName, long[] dims, long begin, long end, MemorySegment data) {
        DType dtype = DType.fromSafetensors(dtypeName);
        if (dtype == null) {
            throw new SafeTensorsException(where(file, name) + ": dtype " + JsonErrors.shown(dtypeName) + " is not supported (F32, F16, BF16, I64)");
        }
        long numel = 1;
        for (long d : dims) {
            if (d < 0) throw new SafeTensorsException(where(file, name) + ": negative dimension in shape " + Arrays.toString(dims));
            if (d > Integer.MAX_VALUE || (d > 0 && numel > Long.MAX_VALUE / 8 / d)) {
                throw new SafeTensorsException(where(file, name) + ": shape " + Arrays.toString(dims) + " is too large");
            }
            numel *= d;
        }
        if (begin < 0 || end < begin) {
            throw new SafeTensorsException(where(file, name) + ": data_offsets [" + begin + ", " + end + "] are not an increasing pair");
        }
        long dataLen = data.byteSize();
        if (end > dataLen) {
            throw new SafeTensorsException(where(file, name) + ": data_offsets [" + begin + ", " + end + "] run past the data section of "
                    + dataLen + " bytes (file truncated?)");
        }
        long expected = numel * dtype.bytes;
        if (end - begin != expected) {
            throw new SafeTensorsException(where(file, name) + ": " + (end - begin) + " bytes stored for shape "
                    + Arrays.toString(dims) + " of " + dtype + ", expected " + expected);
        }
        int[] idims = new int[dims.length];
        for (int k = 0; k < dims.length; k++) idims[k] = (int) dims[k];
        return new Entry(file, name, dtype, new Shape(idims), data.asSlice(begin, end - begin));
    }

    /** The file and tensor that an error is about (built only on error: a header may list a million tensors). */
    private static String where(String file, String name) {
        return file + ": tensor '" + JsonErrors.shown(name) + "'";
    }
}
