package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.restore.RestorePlan.TablespaceTarget;
import io.pgbackup.core.restore.RestoreRequest;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** tablespace_map rewriting and --tablespace-mapping parsing, without a cluster. */
class TablespacesTest {
    @Test
    void onlyTheLinesOfMovedTablespacesChange() {
        List<TablespaceTarget> targets = List.of(
                new TablespaceTarget(16384, "/srv/a", Path.of("/new/a"), "16384.tar.gz", Optional.empty()),
                new TablespaceTarget(16385, "/srv/b", Path.of("/srv/b"), "16385.tar.gz", Optional.empty()));
        assertThat(Tablespaces.rewriteMap("16384 /srv/a\n16385 /srv/b\n", targets)).isEqualTo("16384 /new/a\n16385 /srv/b\n");
        // a map without the line (never written by PostgreSQL, but then the link must still be there at start-up)
        assertThat(Tablespaces.rewriteMap("16385 /srv/b\n", targets)).isEqualTo("16385 /srv/b\n16384 /new/a\n");
    }

    @Test
    void mappingIsParsedAsPgBasebackupDoesIt() {
        assertThat(RestoreRequest.parseTablespaceMapping(List.of("/srv/a=/new/a", "/srv/x\\=y=/new/b/")))
                .isEqualTo(Map.of(Path.of("/srv/a"), Path.of("/new/a"), Path.of("/srv/x=y"), Path.of("/new/b")));
        for (String bad : List.of("/srv/a", "=/x", "/srv/a=", "/a=/b=/c", "a=/b", "/a=b")) {
            assertThatThrownBy(() -> RestoreRequest.parseTablespaceMapping(List.of(bad))).isInstanceOf(PgBackupException.class)
                    .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("--tablespace-mapping");
        }
        assertThatThrownBy(() -> RestoreRequest.parseTablespaceMapping(List.of("/a=/b", "/a/=/c")))
                .hasMessageContaining("maps /a twice");
    }
}
