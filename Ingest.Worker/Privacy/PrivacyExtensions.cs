namespace Ingest.Worker.Privacy;

public static class PrivacyExtensions
{
    /// <summary>The privacy runner and its options (Ingest:Privacy). Needs the database (AddDatabase) and the broker's options (AddEventConsumer).</summary>
    public static IHostApplicationBuilder AddPrivacy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<PrivacyRunner>();
        return builder;
    }
}
