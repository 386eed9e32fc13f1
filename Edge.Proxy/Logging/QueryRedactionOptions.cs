namespace Edge.Proxy.Logging;

/// <summary>
/// Query parameters whose values never reach a log line or a trace (section <c>Edge:Redaction</c>).
/// <c>ticket</c> (the stream ticket) and <c>access_token</c> are always included; configuration adds more.
/// </summary>
public sealed class QueryRedactionOptions
{
    public const string SectionName = "Edge:Redaction";

    public List<string> QueryParameters { get; set; } = ["ticket", "access_token"];
}
