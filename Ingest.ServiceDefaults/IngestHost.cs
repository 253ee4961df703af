using Microsoft.AspNetCore.Builder;

namespace Ingest.ServiceDefaults;

public static class IngestHost
{
    /// <summary>
    /// <see cref="WebApplication.CreateBuilder(string[])"/> without reloading appsettings.json on change. Its file
    /// watcher covers the content root and everything under it, the rolling log files in logs/ included, so each write
    /// to a log file woke it: 13% of the worker's CPU samples under load. Neither host reads options that change while
    /// it runs, and Serilog reads its configuration once. The arguments given still win (a later one overrides).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
}
