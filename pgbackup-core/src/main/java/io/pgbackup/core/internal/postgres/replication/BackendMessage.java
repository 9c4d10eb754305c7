package io.pgbackup.core.internal.postgres.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A message from the server: its type and its body (without type and length). The payload is a
 * view of the reader's buffer, valid until the connection's next read.
 */
record BackendMessage(byte type, ByteBuffer payload) {
    /** Reads a NUL-terminated UTF-8 string at the payload's position. */
    String cstring() {
        int start = payload.position();
        int end = start;
        while (payload.get(end) != 0) {
            end++;
        }
        payload.position(end + 1);
        return new String(payload.array(), payload.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
    }

    /** The rest of the payload as UTF-8 text. */
    String remainingText() {
        return new String(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining(),
                StandardCharsets.UTF_8);
    }

    /** This ErrorResponse as one line: {@code SEVERITY: message DETAIL: ... HINT: ...}. */
    ReplicationException asError() {
        Map<Character, String> fields = new HashMap<>();
        while (payload.hasRemaining()) {
            byte code = payload.get();
            if (code == 0) {
                break;
            }
            fields.put((char) code, cstring());
        }
        StringBuilder text = new StringBuilder();
        text.append(fields.getOrDefault('S', "ERROR")).append(": ").append(fields.getOrDefault('M', "(no message)"));
        if (fields.containsKey('D')) {
            text.append(" DETAIL: ").append(fields.get('D'));
        }
        if (fields.containsKey('H')) {
            text.append(" HINT: ").append(fields.get('H'));
        }
        return new ReplicationException(text.toString().replaceAll("\\s*\\R\\s*", " "), fields.get('C'));
    }
}
