using System.Globalization;
using System.Text;
using StressTests.Runner;

namespace StressTests.Reports;

/// <summary>A line chart of per-second figures as inline SVG: axes, four grid lines, one polyline per series, warm-up shaded.</summary>
public static class SvgChart
{
    const int Width = 520, Height = 220, Left = 56, Right = 10, Top = 24, Bottom = 28;

    public static string Draw(string title, IReadOnlyList<TimelineSecond> timeline, params (string Name, string Color, Func<TimelineSecond, double> Value)[] series)
    {
        static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        var seconds = Math.Max(1, timeline.Count);
        var max = timeline.Count == 0 ? 1 : series.Max(s => timeline.Max(t => s.Value(t)));
        max = max <= 0 ? 1 : max * 1.1;
        double X(double second) => Left + (Width - Left - Right) * second / seconds;
        double Y(double value) => Top + (Height - Top - Bottom) * (1 - value / max);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-size=\"11\">");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"14\" font-weight=\"bold\">{title}</text>");
        var warm = timeline.Count(t => t.WarmUp);
        if (warm > 0) sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(X(0))}\" y=\"{Top}\" width=\"{N(X(warm) - X(0))}\" height=\"{Height - Top - Bottom}\" fill=\"#e8e8e8\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var v = max * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{N(Y(v))}\" y2=\"{N(Y(v))}\" stroke=\"#ddd\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{N(Y(v) + 4)}\" text-anchor=\"end\">{(v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture))}</text>");
        }
        var step = Math.Max(1, (int)Math.Ceiling(seconds / 10.0));
        for (var s = 0; s <= seconds; s += step)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(X(s))}\" y=\"{Height - 10}\" text-anchor=\"middle\">{s}s</text>");
        var legendX = Width - Right - 60 * series.Length;
        foreach (var (name, color, value) in series)
        {
            var points = string.Join(" ", timeline.Select(t => $"{N(X(t.Second + 0.5))},{N(Y(value(t)))}"));
            sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{points}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{legendX + 14}\" y=\"15\">{name}</text>");
            legendX += 60;
        }
        sb.Append("</svg>");
        return sb.ToString();
    }
}
