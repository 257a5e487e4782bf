package com.paytrim.auth;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where the jar's native library is extracted: once per version and content
 * hash, into a user-private cache directory, and reused by every later JVM.
 *
 * <p>Directory: {@code <base>/paytrim-auth/<version>-<sha256 prefix>/<rid>/<file>},
 * with base the system property {@code paytrim.auth.cache.dir}, else the user
 * cache directory ({@code $XDG_CACHE_HOME} or {@code ~/.cache} on Linux,
 * {@code ~/Library/Caches} on macOS, {@code %LOCALAPPDATA%} on Windows), else
 * (home not writable) {@code java.io.tmpdir/paytrim-auth-<user>}. On POSIX
 * file systems the {@code paytrim-auth} directory and everything below are
 * created 0700, must be owned by this user and not be symbolic links, and a
 * directory that is group- or world-writable is refused. The file is written
 * under a temporary name and renamed atomically; an existing file is reused
 * only if its SHA-256 matches the jar's copy (else it is replaced).
 */
final class NativeCache {
    static final String DIR_PROPERTY = "paytrim.auth.cache.dir";

    private NativeCache() {
    }

    /** The library bytes read from the jar, and their hash. */
    static final class Blob {
        final byte[] bytes;
        final String sha256;

        Blob(byte[] bytes) {
            this.bytes = bytes;
            this.sha256 = sha256(bytes);
        }
    }

    static Blob read(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return new Blob(out.toByteArray());
    }

    /** Candidate base directories, best first (each gets a {@code paytrim-auth} folder). */
    static List<Path> bases(String osName, String home, String xdgCacheHome, String localAppData, String tmpdir,
            String user, String explicit) {
        List<Path> out = new ArrayList<>();
        if (explicit != null && !explicit.trim().isEmpty()) {
            out.add(new File(explicit.trim()).toPath());
            return out;
        }
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            if (localAppData != null && new File(localAppData).isAbsolute()) {
                out.add(new File(localAppData).toPath());
            } else if (home != null && !home.isEmpty()) {
                out.add(new File(home, "AppData" + File.separator + "Local").toPath());
            }
        } else if (os.startsWith("mac") || os.contains("darwin")) {
            if (home != null && !home.isEmpty()) {
                out.add(new File(home, "Library/Caches").toPath());
            }
        } else if (xdgCacheHome != null && new File(xdgCacheHome).isAbsolute()) {
            out.add(new File(xdgCacheHome).toPath());
        } else if (home != null && !home.isEmpty() && !home.equals("?")) {
            out.add(new File(home, ".cache").toPath());
        }
        if (tmpdir != null && !tmpdir.isEmpty()) {
            String who = (user == null ? "user" : user).replaceAll("[^A-Za-z0-9._-]", "_");
            out.add(new File(tmpdir, "paytrim-auth-" + who).toPath());
        }
        return out;
    }

    static List<Path> defaultBases() {
        return bases(System.getProperty("os.name", ""), System.getProperty("user.home"), System.getenv("XDG_CACHE_HOME"),
                System.getenv("LOCALAPPDATA"), System.getProperty("java.io.tmpdir"), System.getProperty("user.name"),
                System.getProperty(DIR_PROPERTY));
    }

    /**
     * The path of a verified copy of {@code blob} under the first usable base,
     * extracting it if needed; the reasons each base was refused otherwise.
     */
    static Path extract(List<Path> bases, String version, String rid, String fileName, Blob blob, List<String> refusals) {
        String tag = (version == null || version.isEmpty() ? "dev" : version.replaceAll("[^A-Za-z0-9._-]", "_"))
                + "-" + blob.sha256.substring(0, 16);
        for (Path base : bases) {
            try {
                Path root = base.resolve("paytrim-auth");
                Path dir = root.resolve(tag).resolve(rid);
                privateDirectories(base, root, dir);
                Path file = dir.resolve(fileName);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    checkOwned(file, false);
                    if (blob.sha256.equals(sha256(Files.readAllBytes(file)))) {
                        return file;
                    }
                }
                Path tmp = Files.createTempFile(dir, "." + fileName, ".tmp");
                try {
                    Files.write(tmp, blob.bytes);
                    try {
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
                return file;
            } catch (IOException | RuntimeException e) {
                refusals.add(base + ": " + e);
            }
        }
        return null;
    }

    /** Creates {@code root} and {@code dir} 0700 (POSIX) and checks every level from {@code root} down. */
    private static void privateDirectories(Path base, Path root, Path dir) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Path parent = base.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent);
        }
        // The base too (a directory in /tmp could be someone else's), but never re-permissioned.
        checkOrCreate(base, posix, false);
        Path p = root;
        for (Path part : root.relativize(dir)) {
            checkOrCreate(p, posix, true);
            p = p.resolve(part);
        }
        checkOrCreate(p, posix, true);
    }

    private static void checkOrCreate(Path p, boolean posix, boolean fix) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (posix) {
                    Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else {
                    Files.createDirectory(p);
                }
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // Another JVM made it: checked below like any existing one.
            }
        }
        // The base may be a link the user made (~/.cache on another disk); ours never are.
        if ((fix && Files.isSymbolicLink(p)) || !Files.isDirectory(p)) {
            throw new IOException(p + " is not a directory (or is a symbolic link)");
        }
        checkOwned(p, fix);
    }

    /** POSIX: owned by this user, no group/other write (with {@code fix}, a directory we own is set to 0700). */
    private static void checkOwned(Path p, boolean fix) throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        PosixFileAttributes a = fix ? Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                : Files.readAttributes(p, PosixFileAttributes.class);
        String me = System.getProperty("user.name");
        if (me != null && !a.owner().getName().equals(me)) {
            throw new IOException(p + " is owned by " + a.owner().getName() + ", not by " + me);
        }
        Set<PosixFilePermission> perms = a.permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            if (a.isDirectory() && fix) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            } else {
                throw new IOException(p + " is writable by others (" + PosixFilePermissions.toString(perms) + ")");
            }
        }
    }

    static String sha256(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            StringBuilder s = new StringBuilder(64);
            for (byte b : d) {
                s.append(String.format("%02x", b & 0xff));
            }
            return s.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
