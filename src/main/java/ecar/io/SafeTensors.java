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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, memory-mapped (no copy onto the heap; files over 2 GB work) and validated on open:
 * header length and JSON, dtypes, shapes, offsets inside the data section, byte counts equal to
 * shape × dtype size, no overlapping tensors and no unindexed bytes, and a string-to-string {@code __metadata__}
 * ({@link SafeTensorsHeader} reads the header straight into entries, within its limits).
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
        InputFiles.problem(path, "a safetensors file").ifPresent(p -> {
            throw new SafeTensorsException(p);
        });
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(file + ": " + size + " bytes is too short for a safetensors file (it starts with an 8-byte header length)");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            SafeTensorsHeader.Parsed p = parse(file, all);
            return new SafeTensors(path, arena, p.tensors(), p.metadata());
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

    private static SafeTensorsHeader.Parsed parse(String file, MemorySegment all) {
        long size = all.byteSize();
        long headerLen = all.get(I64, 0);
        if (headerLen < 2 || headerLen > size - 8) {
            throw new SafeTensorsException(file + ": header length " + headerLen + " does not fit the file of " + size
                    + " bytes (8-byte length + header + data); the file is truncated or not safetensors");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file + ": header length " + headerLen + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        long dataStart = 8 + headerLen;
        return SafeTensorsHeader.read(file, all.asSlice(8, headerLen), all.asSlice(dataStart, size - dataStart));
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
