package ecar.io;

import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A safetensors header's bytes as characters, decoded as strict UTF-8 a few kilobytes at a time, so that the
 * JSON reader never needs a copy of a header that may be 100 MB. Invalid UTF-8 (stray bytes, overlong forms,
 * encoded surrogates, a sequence cut at the end) is a {@link SafeTensorsException} that gives its byte offset.
 */
final class Utf8HeaderReader extends Reader {
    private final String file;
    private final ByteBuffer bytes;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final CharBuffer chars = CharBuffer.allocate(8192).flip();
    private boolean flushed;

    Utf8HeaderReader(String file, ByteBuffer bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    @Override
    public int read(char[] into, int off, int len) {
        if (len == 0) return 0;
        if (!chars.hasRemaining() && !fill()) return -1;
        int n = Math.min(len, chars.remaining());
        chars.get(into, off, n);
        return n;
    }

    /** Decodes the next piece; false at the end of the header. */
    private boolean fill() {
        if (flushed) return false;   // the decoder refuses to run again once flushed
        chars.clear();
        CoderResult r = decoder.decode(bytes, chars, true);
        if (r.isError()) {
            throw new SafeTensorsException(file + ": header is not valid UTF-8: bad byte sequence at byte " + (8 + bytes.position())
                    + " of the file (byte " + bytes.position() + " of the header)");
        }
        if (!bytes.hasRemaining() && !flushed) {
            decoder.flush(chars);
            flushed = true;
        }
        chars.flip();
        return chars.hasRemaining();
    }

    @Override
    public void close() {
        // nothing to release: the bytes belong to the mapped file
    }
}
