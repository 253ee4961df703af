using System.Globalization;
using System.Text;
using Serilog.Debugging;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>
/// The Seq sink's durable mode: CLEF lines appended to buffer-NNNNNNNNNNNN.clef files in one folder (one process
/// per folder), and a bookmark file naming the file and byte offset up to which Seq has accepted them.
/// <list type="bullet">
/// <item>Each line is written straight to the operating system (no user-space buffer), so a process crash or
/// restart loses nothing that <see cref="Append"/> returned from.</item>
/// <item>The bookmark is replaced atomically (write a temporary file, rename), after Seq answered, so nothing is
/// sent twice across a restart; a crash between Seq's answer and the rename re-sends that one batch.</item>
/// <item>Past <c>sizeLimit</c> the oldest files are deleted (never the one being written or being shipped), and
/// their unshipped lines counted in <see cref="DroppedEventCount"/>.</item>
/// </list>
/// </summary>
sealed class DurableBuffer : IDisposable
{
    const string FilePrefix = "buffer-", FileSuffix = ".clef", BookmarkName = "bookmark", LockName = "lock";

    public sealed record Position(string File, long Offset);

    readonly string _folder;
    readonly string _bookmarkPath;
    readonly long _fileSizeLimit, _sizeLimit;
    readonly Lock _gate = new();
    readonly FileStream _lock;
    FileStream? _writing;
    long _nextSequence;
    Position? _bookmark;
    string? _shipping;
    long _dropped;

    public DurableBuffer(string folder, long fileSizeLimit, long sizeLimit)
    {
        _folder = Path.GetFullPath(folder);
        _bookmarkPath = Path.Combine(_folder, BookmarkName);
        _fileSizeLimit = fileSizeLimit;
        _sizeLimit = sizeLimit;
        Directory.CreateDirectory(_folder);
        // Two processes on one folder would interleave files and bookmarks: the second one fails at start.
        try
        {
            _lock = new FileStream(Path.Combine(_folder, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The Seq buffer folder {_folder} is in use by another process; give each process its own Ingest:Seq:BufferPath", ex);
        }
        // Always a new file after a restart: a file left by a crash may end in half a line.
        _nextSequence = BufferFiles().Select(f => long.Parse(f.Name[FilePrefix.Length..^FileSuffix.Length], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
        _bookmark = ReadBookmark();
    }

    public long DroppedEventCount => Interlocked.Read(ref _dropped);

    public void Append(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_gate)
        {
            try
            {
                if (_writing is null || (_writing.Length > 0 && _writing.Length + bytes.Length > _fileSizeLimit)) Roll();
                _writing!.Write(bytes);
            }
            catch (Exception ex)
            {
                // A partial line may be left: close the file, so the next line starts a new one and the reader skips it.
                _writing?.Dispose();
                _writing = null;
                Interlocked.Increment(ref _dropped);
                SelfLog.WriteLine("Seq sink: could not write to the buffer in {0}; the event is dropped: {1}", _folder, ex);
            }
        }
    }

    /// <summary>The next complete lines after the bookmark, at most <paramref name="maxEvents"/> and <paramref name="maxBytes"/>.</summary>
    public (ReadOnlyMemory<byte> Payload, int Count, bool Full, Position End)? Read(int maxEvents, long maxBytes)
    {
        lock (_gate)
        {
            var files = BufferFiles();
            var index = _bookmark is null ? 0 : files.FindIndex(f => f.Name == _bookmark.File);
            var offset = index >= 0 && _bookmark is not null ? _bookmark.Offset : 0;
            if (index < 0)
            {
                // The bookmarked file was dropped past the bound: resume at the next one.
                index = files.FindIndex(f => string.CompareOrdinal(f.Name, _bookmark!.File) > 0);
                offset = 0;
                if (index < 0) return null;
            }

            for (; index < files.Count; index++, offset = 0)
            {
                var file = files[index];
                var newest = index == files.Count - 1;
                using (var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    var available = stream.Length - offset;
                    var limit = (int)Math.Max(0, Math.Min(available, maxBytes));
                    // Read in growing chunks until enough lines: a batch of small events needs far less than maxBytes.
                    var buffer = new byte[Math.Min(limit, 256 * 1024)];
                    int filled = 0, scanned = 0, count = 0, end = 0;
                    stream.Position = offset;
                    while (count < maxEvents && filled < limit)
                    {
                        if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, limit));
                        var read = stream.Read(buffer, filled, buffer.Length - filled);
                        if (read == 0) break;
                        for (filled += read; scanned < filled && count < maxEvents; scanned++)
                            if (buffer[scanned] == (byte)'\n') (count, end) = (count + 1, scanned + 1);
                    }

                    if (count > 0)
                    {
                        _shipping = file.Name;
                        var full = count == maxEvents || !newest || available > end;
                        return (buffer.AsMemory(0, end), count, full, new Position(file.Name, offset + end));
                    }
                    if (newest) return null; // still being written
                    if (available > 0)
                    {
                        Interlocked.Increment(ref _dropped);
                        SelfLog.WriteLine("Seq sink: {0} ends in an incomplete line ({1} bytes, cut short by a crash); skipped", file.Name, available);
                    }
                }
                // Shipped to the end and closed: move on.
                File.Delete(file.FullName);
                WriteBookmark(new Position(files[index + 1].Name, 0));
            }
            return null;
        }
    }

    /// <summary>Seq accepted (or refused for good) everything before <paramref name="end"/>.</summary>
    public void Commit(Position end)
    {
        lock (_gate)
        {
            WriteBookmark(end);
            _shipping = null;
        }
    }

    /// <summary>The batch read last was not shipped; it will be read again.</summary>
    public void Abandon()
    {
        lock (_gate) _shipping = null;
    }

    /// <summary>Keeps a payload Seq refused (400/413) beside the buffer, within a total size.</summary>
    public void DumpInvalid(ReadOnlyMemory<byte> payload, int status, long retainedLimit)
    {
        try
        {
            var kept = payload.Length;
            foreach (var old in new DirectoryInfo(_folder).GetFiles("invalid-*.clef").OrderByDescending(f => f.Name, StringComparer.Ordinal))
                if ((kept += (int)Math.Min(old.Length, int.MaxValue)) > retainedLimit) old.Delete();
            var path = Path.Combine(_folder, $"invalid-{status}-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}.clef");
            File.WriteAllBytes(path, payload.ToArray());
            SelfLog.WriteLine("Seq sink: the refused payload is kept in {0}", path);
        }
        catch (Exception ex)
        {
            SelfLog.WriteLine("Seq sink: could not keep the refused payload: {0}", ex);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writing?.Dispose();
            _writing = null;
            _lock.Dispose();
        }
    }

    void Roll()
    {
        _writing?.Dispose();
        _writing = null;
        var path = Path.Combine(_folder, $"{FilePrefix}{_nextSequence++:D12}{FileSuffix}");
        _writing = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        EnforceSizeLimit();
    }

    void EnforceSizeLimit()
    {
        var files = BufferFiles();
        var total = files.Sum(f => f.Length);
        // The newest file is the one being written.
        for (var i = 0; total > _sizeLimit && i < files.Count - 1 && files[i].Name != _shipping; i++)
        {
            var file = files[i];
            var from = _bookmark is null || string.CompareOrdinal(_bookmark.File, file.Name) < 0 ? 0
                : _bookmark.File == file.Name ? _bookmark.Offset
                : long.MaxValue; // already shipped
            var lost = from == long.MaxValue ? 0 : CountLines(file.FullName, from);
            File.Delete(file.FullName);
            total -= file.Length;
            Interlocked.Add(ref _dropped, lost);
            SelfLog.WriteLine("Seq sink: the buffer exceeds {0} bytes; deleted {1} with {2} unshipped events", _sizeLimit, file.FullName, lost);
        }
    }

    static long CountLines(string path, long from)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = Math.Min(from, stream.Length);
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0) lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }

    List<FileInfo> BufferFiles() =>
        new DirectoryInfo(_folder).GetFiles(FilePrefix + "*" + FileSuffix).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();

    Position? ReadBookmark()
    {
        if (!File.Exists(_bookmarkPath)) return null;
        var parts = File.ReadAllText(_bookmarkPath).Split('\n');
        if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            return new Position(parts[0], offset);
        SelfLog.WriteLine("Seq sink: the bookmark {0} is unreadable; shipping from the oldest buffer file", _bookmarkPath);
        return null;
    }

    void WriteBookmark(Position position)
    {
        var temporary = _bookmarkPath + ".tmp";
        File.WriteAllText(temporary, $"{position.File}\n{position.Offset.ToString(CultureInfo.InvariantCulture)}\n");
        File.Move(temporary, _bookmarkPath, overwrite: true);
        _bookmark = position;
    }
}
