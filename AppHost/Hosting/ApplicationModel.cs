namespace AppHost.Hosting;

/// <summary>Generated for every project the AppHost references (see build/ProjectMetadata.targets).</summary>
public interface IProjectMetadata
{
    /// <summary>Full path of the project file.</summary>
    string ProjectPath { get; }

    /// <summary>Full path of the built assembly the AppHost starts.</summary>
    string TargetPath { get; }
}

public interface IResource
{
    string Name { get; }
}

/// <summary>A resource other resources can reference through service discovery.</summary>
public interface IResourceWithEndpoints : IResource
{
    IReadOnlyList<EndpointAnnotation> Endpoints { get; }
}

public interface IResourceBuilder<out T> where T : IResource
{
    T Resource { get; }

    IDistributedApplicationBuilder ApplicationBuilder { get; }
}

internal sealed class ResourceBuilder<T>(T resource, IDistributedApplicationBuilder applicationBuilder) : IResourceBuilder<T>
    where T : IResource
{
    public T Resource { get; } = resource;

    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;
}

/// <summary>One endpoint of a project, as Aspire's EndpointAnnotation.</summary>
public sealed class EndpointAnnotation(string name, string uriScheme, string transport, bool fromKestrelConfiguration)
{
    public string Name { get; } = name;

    public string UriScheme { get; set; } = uriScheme;

    /// <summary><c>http</c> or <c>http2</c> (an HTTP/2-only Kestrel endpoint, i.e. h2c).</summary>
    public string Transport { get; set; } = transport;

    /// <summary>A fixed port. Null: a free port is chosen at start. Ignored when ports are randomized.</summary>
    public int? Port { get; set; }

    public bool IsExternal { get; set; }

    /// <summary>True when the endpoint comes from the project's Kestrel:Endpoints configuration.</summary>
    public bool FromKestrelConfiguration { get; } = fromKestrelConfiguration;
}

/// <summary>An environment value given to a resource: a literal or a parameter's value.</summary>
public abstract record EnvironmentValue
{
    public sealed record Literal(string Value) : EnvironmentValue;

    public sealed record FromParameter(ParameterResource Parameter) : EnvironmentValue;
}

public sealed class ParameterResource(string name, bool secret, string? defaultValue) : IResource
{
    public string Name { get; } = name;

    public bool Secret { get; } = secret;

    public string? DefaultValue { get; } = defaultValue;

    /// <summary>The configuration key the value is read from, as in Aspire.</summary>
    public string ConfigurationKey => $"Parameters:{Name}";
}

public sealed class ProjectResource(string name, IProjectMetadata metadata, ProjectLaunchSettings launch) : IResourceWithEndpoints
{
    private readonly List<EndpointAnnotation> _endpoints = [.. launch.Endpoints];

    public string Name { get; } = name;

    public IProjectMetadata Metadata { get; } = metadata;

    public ProjectLaunchSettings Launch { get; } = launch;

    public IReadOnlyList<EndpointAnnotation> Endpoints => _endpoints;

    public int Replicas { get; set; } = 1;

    public List<IResourceWithEndpoints> References { get; } = [];

    public List<IResource> WaitsFor { get; } = [];

    public Dictionary<string, EnvironmentValue> Environment { get; } = new(StringComparer.Ordinal);

    public HttpHealthCheck? HealthCheck { get; set; }

    internal void AddEndpoint(EndpointAnnotation endpoint) => _endpoints.Add(endpoint);
}

public sealed record HttpHealthCheck(string Path, int StatusCode, string? EndpointName);
