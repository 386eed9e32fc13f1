using System.Collections;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace AppHost.Hosting;

/// <summary>
/// Aspire's run-time environment contract for a project replica (research/aspire.md §1), so a
/// real Aspire AppHost and this one give the services the very same variables.
/// </summary>
internal static class AspireEnvironment
{
    // DCP does not pass these from the AppHost to its children (DcpHost.s_doNotInheritEnvironmentVars).
    private static readonly string[] NotInherited = ["ASPNETCORE_URLS", "DOTNET_LAUNCH_PROFILE", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"];

    public static Dictionary<string, string> Build(
        ReplicaRun replica,
        IReadOnlyDictionary<ProjectResource, IReadOnlyList<ReplicaRun>> allReplicas,
        IReadOnlyDictionary<ParameterResource, string> parameters,
        DevelopmentCertificate? certificate,
        IConfiguration appHostConfiguration,
        IHostEnvironment appHostEnvironment)
    {
        var project = replica.Project;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            var name = (string)variable.Key;
            if (!NotInherited.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                environment[name] = (string?)variable.Value ?? string.Empty;
            }
        }

        foreach (var (name, value) in project.Launch.Environment)
        {
            environment[name] = value;
        }

        if (project.Launch.ProfileName is { } profile)
        {
            environment["DOTNET_LAUNCH_PROFILE"] = profile;
        }

        AddEndpoints(environment, replica);
        foreach (var reference in project.References.OfType<ProjectResource>())
        {
            AddServiceDiscovery(environment, reference, allReplicas[reference]);
        }

        AddOpenTelemetry(environment, replica, appHostConfiguration, appHostEnvironment);
        environment["LOGGING__CONSOLE__FORMATTERNAME"] = "simple";
        environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true";

        if (certificate?.Path is not null && project.Endpoints.Any(e => e.UriScheme == "https"))
        {
            environment["Kestrel__Certificates__Default__Path"] = certificate.Path;
            environment["Kestrel__Certificates__Default__Password"] = certificate.Password!;
        }

        foreach (var (name, value) in project.Environment)
        {
            environment[name] = value switch
            {
                EnvironmentValue.Literal literal => literal.Value,
                EnvironmentValue.FromParameter fromParameter => parameters[fromParameter.Parameter],
                _ => throw new InvalidOperationException($"Unknown environment value for '{name}'."),
            };
        }

        return environment;
    }

    public static string Url(EndpointAnnotation endpoint, int port) => $"{endpoint.UriScheme}://localhost:{port}";

    /// <summary>Aspire 13's <c>{RESOURCE}_{ENDPOINT}</c> names: upper case, anything but [A-Z0-9_] becomes '_'.</summary>
    public static string EncodeName(string resource, string endpoint)
    {
        var name = new StringBuilder();
        foreach (var c in $"{resource}_{endpoint}".ToUpperInvariant())
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return char.IsAsciiDigit(name[0]) ? $"_{name}" : name.ToString();
    }

    private static void AddEndpoints(Dictionary<string, string> environment, ReplicaRun replica)
    {
        var project = replica.Project;
        if (project.Launch.UsesKestrelEndpoints)
        {
            // Kestrel:Endpoints in appsettings wins over ASPNETCORE_URLS, so Aspire overrides each endpoint's URL.
            foreach (var endpoint in project.Endpoints)
            {
                environment[$"Kestrel__Endpoints__{endpoint.Name}__Url"] = Url(endpoint, replica.Ports[endpoint.Name]);
            }
        }
        else if (project.Endpoints.Count > 0)
        {
            environment["ASPNETCORE_URLS"] = string.Join(';', project.Endpoints.Select(e => Url(e, replica.Ports[e.Name])));
        }

        if (project.Endpoints.FirstOrDefault(e => e.UriScheme == "https") is { } https)
        {
            environment["ASPNETCORE_HTTPS_PORT"] = replica.Ports[https.Name].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static void AddServiceDiscovery(Dictionary<string, string> environment, ProjectResource reference, IReadOnlyList<ReplicaRun> replicas)
    {
        foreach (var endpoint in reference.Endpoints)
        {
            // Aspire's DCP proxy gives one URL for all replicas; without a proxy every replica is listed
            // (__0, __1, ...), which service discovery load-balances across just the same.
            for (var index = 0; index < replicas.Count; index++)
            {
                environment[$"services__{reference.Name}__{endpoint.Name}__{index}"] = Url(endpoint, replicas[index].Ports[endpoint.Name]);
            }

            environment[EncodeName(reference.Name, endpoint.Name)] = Url(endpoint, replicas[0].Ports[endpoint.Name]);
        }
    }

    private static void AddOpenTelemetry(Dictionary<string, string> environment, ReplicaRun replica, IConfiguration configuration, IHostEnvironment appHostEnvironment)
    {
        environment["OTEL_SERVICE_NAME"] = replica.Project.Name;
        environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={replica.InstanceId}";
        environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"] = "true";
        environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"] = "true";
        environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory";
        // Aspire also sets OTEL_DOTNET_EXPERIMENTAL_{ASPNETCORE,HTTPCLIENT}_DISABLE_URL_QUERY_REDACTION in
        // Development. Not here: stream tickets travel in the query string and must stay redacted.

        var (endpoint, protocol) = OtlpEndpoint(configuration);
        if (endpoint is null)
        {
            return;
        }

        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint;
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol;
        if (configuration["AppHost:OtlpApiKey"] is { Length: > 0 } apiKey)
        {
            environment["OTEL_EXPORTER_OTLP_HEADERS"] = $"x-otlp-api-key={apiKey}";
        }

        if (appHostEnvironment.IsDevelopment())
        {
            environment["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            environment["OTEL_TRACES_SAMPLER"] = "always_on";
            environment["OTEL_METRICS_EXEMPLAR_FILTER"] = "trace_based";
        }
    }

    /// <summary>The telemetry endpoint, from the same AppHost settings Aspire reads.</summary>
    public static (string? Endpoint, string Protocol) OtlpEndpoint(IConfiguration configuration)
    {
        var grpc = configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"];
        if (!string.IsNullOrWhiteSpace(grpc))
        {
            return (grpc, "grpc");
        }

        var http = configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"];
        return string.IsNullOrWhiteSpace(http) ? (null, "grpc") : (http, "http/protobuf");
    }
}
