using AppHost;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

if (builder.ExecutionContext.IsRunMode)
{
    // The edge and the Aspire dashboard serve HTTPS with the ASP.NET Core development certificate.
    DevelopmentCertificate.EnsureTrusted();
}

// Secrets for this run: generated unless Parameters:<name> is configured, never printed.
// The development issuer: Dashboard.Web signs a development user in and mints access tokens with this key;
// Metrics.Api trusts them (in Development only). Stream tickets: Metrics.Api's own key, shared by its replicas.
var developmentIssuerKey = builder.AddParameter("development-issuer-signing-key", SigningKey.Generate(), secret: true);
var streamTicketKey = builder.AddParameter("stream-ticket-signing-key", SigningKey.Generate(), secret: true);
const string DevelopmentIssuer = "https://dev-issuer.localhost";
const string DevelopmentAudience = "metrics-api";

var metricsApi = builder.AddProject<Projects.Metrics_Api>("metrics-api")
    .WithReplicas(builder.Configuration.GetValue("MetricsApi:Replicas", 1))
    .WithEnvironment("StreamTickets__SigningKey", streamTicketKey)
    .WithEnvironment("DevelopmentIssuer__SigningKey", developmentIssuerKey)
    .WithEnvironment("DevelopmentIssuer__Issuer", DevelopmentIssuer)
    .WithEnvironment("DevelopmentIssuer__Audience", DevelopmentAudience)
    .WithHttpHealthCheck("/health");
if (builder.ExecutionContext.IsRunMode)
{
    // An operator command in the Aspire dashboard; deployments leave Metrics.Api's admin endpoint off.
    metricsApi.WithRebalanceStreamsCommand(builder.AddParameter("stream-admin-key", SigningKey.Generate(), secret: true));
}

var dashboardWeb = builder.AddProject<Projects.Dashboard_Web>("dashboard-web")
    .WithReference(metricsApi)
    .WithEnvironment("DevelopmentIssuer__SigningKey", developmentIssuerKey)
    .WithEnvironment("DevelopmentIssuer__Issuer", DevelopmentIssuer)
    .WithEnvironment("DevelopmentIssuer__Audience", DevelopmentAudience)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Edge_Proxy>("edge-proxy")
    .WithReference(metricsApi).WaitFor(metricsApi)
    .WithReference(dashboardWeb).WaitFor(dashboardWeb)
    // The one public, stable port: browsers reach the dashboard and the API here.
    .WithPublicHttpsEndpoint(builder.Configuration.GetValue("EdgeHttpsPort", 7443))
    .WithHttpHealthCheck("/health");

builder.Build().Run();
