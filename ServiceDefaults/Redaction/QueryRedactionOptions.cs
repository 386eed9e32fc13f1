namespace ServiceDefaults.Redaction;

/// <summary>
/// What query values may reach a log line, a log attribute, an exception text or a span (section <c>Redaction</c>):
/// none, except those of <see cref="AllowedQueryParameters"/>.
/// The values of <see cref="QueryParameters"/> are redacted even outside a query string, whatever else is configured.
/// </summary>
public sealed class QueryRedactionOptions
{
    public const string SectionName = "Redaction";

    /// <summary>Always redacted, wherever they appear: <c>ticket</c> (the stream ticket) and <c>access_token</c>; configuration adds more.</summary>
    public List<string> QueryParameters { get; set; } = ["ticket", "access_token"];

    /// <summary>
    /// The harmless names whose values stay readable: <c>lastEventId</c> (a resume point, a number) and <c>probe</c> (a
    /// value that is never a credential, kept so a leak search can prove it sees query strings at all). Configuration
    /// adds more; a name that is also in <see cref="QueryParameters"/> stops start-up.
    /// </summary>
    public List<string> AllowedQueryParameters { get; set; } = ["lastEventId", "probe"];
}
