package ecar.io;

import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files: tensors back to back in the order added, the header padded with spaces to a
 * multiple of 8 bytes. The file appears only when complete ({@link AtomicFile}: written beside it, then moved into
 * place; the temporary file is removed on failure and on a signal).
 */
public final class SafeTensorsWriter {
    private record Item(String name, DType dtype, Shape shape, ByteBuffer bytes) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Item> items = new ArrayList<>();

    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafeTensorsWriter add(String name, FloatTensor t) {
        return add(name, t, DType.F32);
    }

    /** A float tensor stored as F32, F16 or BF16 (round to nearest even). */
    public SafeTensorsWriter add(String name, FloatTensor t, DType dtype) {
        float[] d = t.data();
        ByteBuffer b = ByteBuffer.allocate(d.length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(d);
            case F16 -> {
                for (float v : d) b.putShort(Float.floatToFloat16(v));
            }
            case BF16 -> {
                for (float v : d) b.putShort(Bf16.fromFloat(v));
            }
            case I64 -> throw new IllegalArgumentException("tensor '" + name + "': use addLongs for I64");
        }
        b.rewind();
        return put(new Item(name, dtype, t.shape(), b));
    }

    public SafeTensorsWriter addLongs(String name, long[] values, int... dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != values.length) throw new IllegalArgumentException("tensor '" + name + "': " + values.length + " values for shape " + s);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return put(new Item(name, DType.I64, s, b));
    }

    private SafeTensorsWriter put(Item it) {
        for (Item other : items) {
            if (other.name.equals(it.name)) throw new IllegalArgumentException("tensor '" + it.name + "' added twice");
        }
        items.add(it);
        return this;
    }

    public void write(Path path) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", metadata);
        long offset = 0;
        for (Item it : items) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", it.dtype.safetensorsName);
            info.put("shape", it.shape.toArray());
            long end = offset + it.bytes.remaining();
            info.put("data_offsets", new long[]{offset, end});
            header.put(it.name, info);
            offset = end;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        try (AtomicFile out = AtomicFile.beside(path)) {
            try (FileChannel ch = FileChannel.open(out.temp(), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                while (head.hasRemaining()) ch.write(head);
                for (Item it : items) {
                    ByteBuffer b = it.bytes.duplicate();
                    while (b.hasRemaining()) ch.write(b);
                }
            }
            out.commit();
        }
    }
}
