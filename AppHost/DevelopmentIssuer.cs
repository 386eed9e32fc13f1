namespace AppHost;

internal static class DevelopmentIssuer
{
    /// <summary>The stand-in for an identity provider in Development: Dashboard.Web signs users in, Metrics.Api trusts it.</summary>
    public static IResourceBuilder<ProjectResource> WithDevelopmentIssuer(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ParameterResource> signingKey) => project
        .WithEnvironment("DevelopmentIssuer__SigningKey", signingKey)
        .WithEnvironment("DevelopmentIssuer__Issuer", "https://dev-issuer.localhost")
        .WithEnvironment("DevelopmentIssuer__Audience", "metrics-api");
}
