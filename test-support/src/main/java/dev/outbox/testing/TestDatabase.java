package dev.outbox.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** One test's own database; {@link #close()} drops it together with its replication slots. */
public final class TestDatabase implements AutoCloseable {

    private final PostgresFixture server;
    private final String name;
    private final String url;
    private final String user;
    private final String password;
    private final PGSimpleDataSource dataSource;

    TestDatabase(PostgresFixture server, String name, String url, String user, String password) {
        this.server = server;
        this.name = name;
        this.url = url;
        this.user = user;
        this.password = password;
        this.dataSource = new PGSimpleDataSource();
        dataSource.setURL(url);
        dataSource.setUser(user);
        dataSource.setPassword(password);
    }

    public String name() {
        return name;
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Connection connect() throws SQLException {
        return dataSource.getConnection();
    }

    /** Runs one statement in auto-commit mode. */
    public void execute(String sql) {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The single long value {@code sql} selects. */
    public long queryLong(String sql) {
        try (Connection c = connect();
                Statement s = c.createStatement();
                var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    public PostgresFixture server() {
        return server;
    }

    @Override
    public void close() {
        server.dropDatabase(name);
    }
}
