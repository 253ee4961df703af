using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.ServiceDefaults.Logging;

/// <summary>Request logging (section <c>Ingest:Logging:Requests</c>).</summary>
public sealed class RequestLoggingOptions
{
    public const string Section = "Ingest:Logging:Requests";

    public bool Enabled { get; set; } = true;

    /// <summary>A 2xx slower than this is logged on its own.</summary>
    [Range(0, double.MaxValue)] public double SlowRequestMs { get; set; } = 500;

    /// <summary>The share of fast 2xx logged on their own (0 to 1); all of them are counted in the summary.</summary>
    [Range(0, 1)] public double SuccessSampleRate { get; set; }

    /// <summary>At most this many requests a second are logged on their own (a 503 storm must not flood Seq); the rest are counted in the summary.</summary>
    [Range(0, int.MaxValue)] public int MaxEventsPerSecond { get; set; } = 100;

    /// <summary>How often the summary (counts and latency per method, route and status) is logged.</summary>
    public TimeSpan SummaryInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// One log event per request that matters (errors, 4xx, slow, a sample of the rest), and a periodic summary of
/// all of them, so request logging costs a few counters per request rather than a log event.
/// Never logged: headers (Authorization carries the write key), the body, the writeKey query parameter.
/// </summary>
public static class RequestLogging
{
    public const string SourceItem = "SourceId";

    /// <summary>Call first in the pipeline, so the status and time include every other middleware.</summary>
    public static IApplicationBuilder UseIngestRequestLogging(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IConfiguration>().GetSection(RequestLoggingOptions.Section).Get<RequestLoggingOptions>() ?? new();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            throw new OptionsValidationException(RequestLoggingOptions.Section, string.Join("; ", results.Select(r => r.ErrorMessage)));
        if (!options.Enabled) return app;

        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ingest.Requests");
        var time = app.ApplicationServices.GetService<TimeProvider>() ?? TimeProvider.System;
        var recorder = new RequestRecorder(options, logger, time);
        var lifetime = app.ApplicationServices.GetService<IHostApplicationLifetime>();
        lifetime?.ApplicationStopping.Register(recorder.Dispose);
        return app.Use(recorder.InvokeAsync);
    }

    /// <summary>The query string without writeKey (any case), or null when nothing is left.</summary>
    public static string? SafeQuery(QueryString query)
    {
        if (!query.HasValue) return null;
        var kept = query.Value!.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => !Uri.UnescapeDataString(pair.Split('=')[0]).Equals("writeKey", StringComparison.OrdinalIgnoreCase));
        var safe = string.Join('&', kept);
        return safe.Length == 0 ? null : "?" + safe;
    }
}

sealed class RequestRecorder : IDisposable
{
    readonly RequestLoggingOptions _options;
    readonly ILogger _logger;
    readonly TimeProvider _time;
    readonly ITimer _timer;
    ConcurrentDictionary<(string Method, string Route, int Status), Counter> _counters = new();
    long _windowSecond, _windowCount;
    long _since;
    int _disposed;

    public RequestRecorder(RequestLoggingOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _since = time.GetTimestamp();
        _timer = time.CreateTimer(_ => Summarise(), null, options.SummaryInterval, options.SummaryInterval);
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var start = _time.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            // The server answers 500 after this; logged here because here the request is still known.
            Record(context, start, StatusCodes.Status500InternalServerError, ex);
            throw;
        }
        Record(context, start, context.Response.StatusCode, null);
    }

    void Record(HttpContext context, long start, int status, Exception? exception)
    {
        var elapsed = _time.GetElapsedTime(start);
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
        var slow = elapsed.TotalMilliseconds >= _options.SlowRequestMs;
        var success = status is >= 200 and < 300;
        var wanted = !success || slow || (_options.SuccessSampleRate > 0 && Random.Shared.NextDouble() < _options.SuccessSampleRate);
        var logged = wanted && TakeBudget();
        _counters.GetOrAdd((context.Request.Method, route, status), _ => new Counter()).Add(elapsed, suppressed: wanted && !logged);
        if (!logged) return;

        var level = exception is not null || status >= 500 && status != StatusCodes.Status503ServiceUnavailable ? LogLevel.Error
            : !success || slow ? LogLevel.Warning
            : LogLevel.Information;
        _logger.Log(level, exception,
            "HTTP {RequestMethod} {RequestPath}{RequestQuery} responded {StatusCode} in {ElapsedMs} ms ({Route}, source {SourceId})",
            context.Request.Method, context.Request.Path.Value, RequestLogging.SafeQuery(context.Request.QueryString) ?? "",
            status, Math.Round(elapsed.TotalMilliseconds, 3), route, context.Items.TryGetValue(RequestLogging.SourceItem, out var source) ? source?.ToString() : null);
    }

    /// <summary>A per-second budget of individually logged requests.</summary>
    bool TakeBudget()
    {
        var second = _time.GetTimestamp() / _time.TimestampFrequency;
        if (Interlocked.Read(ref _windowSecond) != second)
        {
            Interlocked.Exchange(ref _windowSecond, second);
            Interlocked.Exchange(ref _windowCount, 0);
        }
        return Interlocked.Increment(ref _windowCount) <= _options.MaxEventsPerSecond;
    }

    /// <summary>One event per method, route and status seen since the last summary.</summary>
    public void Summarise()
    {
        var counters = Interlocked.Exchange(ref _counters, new());
        var now = _time.GetTimestamp();
        var seconds = Math.Round(_time.GetElapsedTime(Interlocked.Exchange(ref _since, now), now).TotalSeconds, 1);
        foreach (var ((method, route, status), counter) in counters.OrderBy(c => c.Key.Route, StringComparer.Ordinal).ThenBy(c => c.Key.Status))
            _logger.LogInformation(
                "HTTP summary {RequestMethod} {Route} {StatusCode}: {RequestCount} requests in {IntervalSeconds} s, mean {MeanMs} ms, max {MaxMs} ms, {SuppressedCount} over the individual-event budget",
                method, route, status, counter.Count, seconds, Math.Round(counter.MeanMs, 3), Math.Round(counter.MaxMs, 3), counter.Suppressed);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _timer.Dispose();
        Summarise();
    }

    sealed class Counter
    {
        long _count, _suppressed, _totalTicks, _maxTicks;

        public long Count => Interlocked.Read(ref _count);
        public long Suppressed => Interlocked.Read(ref _suppressed);
        public double MeanMs => Count == 0 ? 0 : TimeSpan.FromTicks(Interlocked.Read(ref _totalTicks) / Count).TotalMilliseconds;
        public double MaxMs => TimeSpan.FromTicks(Interlocked.Read(ref _maxTicks)).TotalMilliseconds;

        public void Add(TimeSpan elapsed, bool suppressed)
        {
            Interlocked.Increment(ref _count);
            if (suppressed) Interlocked.Increment(ref _suppressed);
            Interlocked.Add(ref _totalTicks, elapsed.Ticks);
            long max;
            while (elapsed.Ticks > (max = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, elapsed.Ticks, max) != max) { }
        }
    }
}
