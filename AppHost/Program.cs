using AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var metricsApi = builder.AddProject<Projects.Metrics_Api>("metrics-api")
    .WithReplicas(builder.GetSetting("MetricsApi:Replicas", 1))
    .WithHttpHealthCheck("/health");

var dashboardWeb = builder.AddProject<Projects.Dashboard_Web>("dashboard-web")
    .WithReference(metricsApi)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Edge_Proxy>("edge-proxy")
    .WithReference(metricsApi).WaitFor(metricsApi)
    .WithReference(dashboardWeb).WaitFor(dashboardWeb)
    .WithEndpoint("https", endpoint => endpoint.Port = builder.GetSetting("EdgeHttpsPort", 7443))
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
