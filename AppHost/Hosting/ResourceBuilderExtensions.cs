using Microsoft.Extensions.Configuration;

namespace AppHost.Hosting;

/// <summary>The Aspire-shaped API the AppHost's Program.cs is written against.</summary>
public static class ResourceBuilderExtensions
{
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        var metadata = new TProject();
        var preferredProfile = builder.Configuration["AppHost:DefaultLaunchProfileName"];
        var launch = ProjectLaunchSettings.Read(metadata.ProjectPath, preferredProfile);
        return builder.AddResource(new ProjectResource(name, metadata, launch));
    }

    /// <summary>
    /// A value read from configuration key <c>Parameters:{name}</c>. A secret one with no value
    /// configured is generated for the run; a non-secret one with no value is an error at start.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, secret, defaultValue: null));

    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, string value, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, secret, value));

    /// <summary>Injects the service-discovery variables for every endpoint of <paramref name="source"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<IResourceWithEndpoints> source)
    {
        builder.Resource.References.Add(source.Resource);
        return builder;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is running and, if it has a health check, healthy.</summary>
    public static IResourceBuilder<ProjectResource> WaitFor(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<IResource> dependency)
    {
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithHttpHealthCheck(this IResourceBuilder<ProjectResource> builder, string path = "/", int statusCode = 200, string? endpointName = null)
    {
        builder.Resource.HealthCheck = new HttpHealthCheck(path, statusCode, endpointName);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithExternalHttpEndpoints(this IResourceBuilder<ProjectResource> builder)
    {
        foreach (var endpoint in builder.Resource.Endpoints)
        {
            endpoint.IsExternal = true;
        }

        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        builder.Resource.Replicas = replicas;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEndpoint(this IResourceBuilder<ProjectResource> builder, string endpointName, Action<EndpointAnnotation> configure)
    {
        var endpoint = builder.Resource.Endpoints.FirstOrDefault(e => e.Name == endpointName)
            ?? throw new DistributedApplicationException($"Resource '{builder.Resource.Name}' has no endpoint named '{endpointName}'.");
        configure(endpoint);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        builder.Resource.Environment[name] = new EnvironmentValue.Literal(value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        builder.Resource.Environment[name] = new EnvironmentValue.FromParameter(parameter.Resource);
        return builder;
    }

    /// <summary>Reads a value from the AppHost's configuration, or the default.</summary>
    public static T GetSetting<T>(this IDistributedApplicationBuilder builder, string key, T defaultValue) =>
        builder.Configuration.GetValue(key, defaultValue)!;
}
