namespace Metrics.Api.Backplane;

/// <summary>What the replicas share, if anything: the value of <c>Streaming:Backplane</c>.</summary>
public enum BackplaneKind
{
    /// <summary>Nothing shared: one replica, exactly as without a backplane (the default).</summary>
    InMemory,

    /// <summary>Redis at <c>ConnectionStrings:redis</c> (what the AppHost's <c>WithReference(redis)</c> injects).</summary>
    Redis,
}

/// <summary>
/// The backplane choice, bound from the <c>Streaming</c> section (key <c>Backplane</c>). Read once while services are
/// registered: it decides which are.
/// </summary>
public sealed class BackplaneOptions
{
    public const string SectionName = "Streaming";

    /// <summary>The connection name: <c>ConnectionStrings:redis</c>, and the Aspire client's settings key.</summary>
    public const string RedisConnectionName = "redis";

    public BackplaneKind Backplane { get; set; } = BackplaneKind.InMemory;
}
