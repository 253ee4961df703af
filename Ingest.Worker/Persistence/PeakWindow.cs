namespace Ingest.Worker.Persistence;

/// <summary>A local time-of-day range, start inclusive, end exclusive; it wraps midnight when the end is not after the start.</summary>
public readonly record struct PeakWindow(TimeOnly Start, TimeOnly End)
{
    public bool Contains(TimeOnly time) => Start < End ? time >= Start && time < End : time >= Start || time < End;

    public static bool TryParse(string text, out PeakWindow window)
    {
        window = default;
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !TimeOnly.TryParseExact(parts[0], ["H:mm", "HH:mm"], out var start)
            || !TimeOnly.TryParseExact(parts[1], ["H:mm", "HH:mm"], out var end)
            || start == end)
            return false;
        window = new PeakWindow(start, end);
        return true;
    }
}
