namespace ServiceDefaults.Redaction;

/// <summary>
/// Query parameters whose values never reach a log line, a log attribute, an exception text or a span
/// (section <c>Redaction</c>; Edge.Proxy's earlier <c>Edge:Redaction</c> is read too).
/// <c>ticket</c> (the stream ticket) and <c>access_token</c> are always included; configuration adds more.
/// </summary>
public sealed class QueryRedactionOptions
{
    public const string SectionName = "Redaction";

    /// <summary>The section Edge.Proxy used before redaction moved to ServiceDefaults; still honoured.</summary>
    public const string LegacySectionName = "Edge:Redaction";

    public List<string> QueryParameters { get; set; } = ["ticket", "access_token"];
}
