namespace Metrics.Api.Hosting;

/// <summary>
/// The replica's identity: <c>service.instance.id</c> from OTEL_RESOURCE_ATTRIBUTES (set by the
/// AppHost, one per replica), else the container or machine name.
/// </summary>
public static class InstanceIdentity
{
    public static string From(IConfiguration configuration)
    {
        var attributes = configuration["OTEL_RESOURCE_ATTRIBUTES"];
        if (!string.IsNullOrEmpty(attributes))
        {
            foreach (var pair in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var separator = pair.IndexOf('=', StringComparison.Ordinal);
                if (separator > 0 && pair.AsSpan(0, separator).SequenceEqual("service.instance.id"))
                {
                    return pair[(separator + 1)..];
                }
            }
        }

        return Environment.MachineName;
    }
}
