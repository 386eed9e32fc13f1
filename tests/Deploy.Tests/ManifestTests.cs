using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// The deployment cannot drift from the AppHost. The Aspire manifest the AppHost publishes is checked against the
/// Bicep: every project resource is a container app of the same name; every binding has ingress of the same reach
/// (external or internal) and transport on the container port that serves it; every environment variable is
/// deployed with the same meaning; every secret parameter is a secure template parameter; every container resource
/// (Redis) is a container app of the same name, image, command and port, and a connection string to it is a secret
/// holding the same address and password. Where the deployment
/// differs on purpose, the allow-list below says so and why. Anything new in the AppHost fails here until someone
/// maps it in infra/ or adds it to the allow-list.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed partial class ManifestTests(DeploymentFixture deployment)
{
    private const string DevelopmentIssuerIsLocalOnly =
        "the development issuer signs a local user in, and Metrics.Api trusts it in Development only; on Azure, Entra ID "
        + "issues the tokens (Authentication__Schemes__*), and a key that mints trusted tokens must never be deployed";

    private const string NoClientAsksForHttps =
        "inside the environment the apps speak plain HTTP and h2c, and every client asks for http:// (the edge's clusters "
        + "http://_h2c.metrics-api and http://dashboard-web, Dashboard.Web's http://metrics-api), so service discovery "
        + "never reads an https entry";

    /// <summary>Variables the AppHost sets that the deployment must not set.</summary>
    private static readonly Difference[] VariablesNotDeployed =
    [
        new("metrics-api", "DevelopmentIssuer__SigningKey", DevelopmentIssuerIsLocalOnly),
        new("metrics-api", "DevelopmentIssuer__Issuer", DevelopmentIssuerIsLocalOnly),
        new("metrics-api", "DevelopmentIssuer__Audience", DevelopmentIssuerIsLocalOnly),
        new("dashboard-web", "DevelopmentIssuer__SigningKey", DevelopmentIssuerIsLocalOnly),
        new("dashboard-web", "DevelopmentIssuer__Issuer", DevelopmentIssuerIsLocalOnly),
        new("dashboard-web", "DevelopmentIssuer__Audience", DevelopmentIssuerIsLocalOnly),
        new("dashboard-web", "METRICS_API_HTTPS", NoClientAsksForHttps),
        new("dashboard-web", "services__metrics-api__https__0", NoClientAsksForHttps),
        new("edge-proxy", "METRICS_API_HTTPS", NoClientAsksForHttps),
        new("edge-proxy", "services__metrics-api__https__0", NoClientAsksForHttps),
        new("edge-proxy", "DASHBOARD_WEB_HTTPS", NoClientAsksForHttps),
        new("edge-proxy", "services__dashboard-web__https__0", NoClientAsksForHttps),
    ];

    /// <summary>Variables the deployment sets under another name with the same meaning.</summary>
    private static readonly Difference[] VariablesRenamed =
    [
        new("dashboard-web", "HTTP_PORTS",
            "ASP.NET Core reads HTTP_PORTS with or without the ASPNETCORE_ prefix; the deployment uses the name the .NET "
            + "container image already sets (ASPNETCORE_HTTP_PORTS=8080), so its value replaces the image's instead of "
            + "being a second source",
            DeployedAs: "ASPNETCORE_HTTP_PORTS"),
    ];

    /// <summary>Bindings that get no ingress, whatever the manifest says about their reach.</summary>
    private static readonly Difference[] BindingsWithoutIngress =
    [
        new("edge-proxy", "http",
            "WithExternalHttpEndpoints() marks every endpoint of the edge external, but on Azure its one public entry is "
            + "the ingress (443, TLS, then h2c to the h2c port); the HTTP/1.1 port only answers the platform's probes, "
            + "which reach the replica directly"),
    ];

    /// <summary>AppHost parameters that have no counterpart in the template.</summary>
    private static readonly Dictionary<string, string> ParametersNotDeployed = new()
    {
        ["development-issuer-signing-key"] = DevelopmentIssuerIsLocalOnly,
    };

    private AspireManifest Manifest => deployment.Manifest;

    private DeploymentSnapshot Deployed => deployment.Deployed;

    [Fact]
    public void EveryProjectResourceIsTheContainerAppAzdDeploysThatProjectTo()
    {
        var failures = new List<string>();
        foreach (var (name, type) in Manifest.ResourceTypes)
        {
            if (!Manifest.Projects.ContainsKey(name) && !Manifest.Parameters.ContainsKey(name)
                && !Manifest.Containers.ContainsKey(name) && !Manifest.Values.ContainsKey(name))
            {
                failures.Add($"{name}: resource type {type} has no rule here; map it in infra/ and teach ManifestTests its counterpart");
            }
        }

        var apps = Deployed.AllContainerApps.Select(app => app.Name).ToHashSet();
        var azureYaml = AzdTests.AzureYamlServices(deployment.RepoRoot);
        foreach (var project in Manifest.Projects.Values)
        {
            if (!apps.Contains(project.Name))
            {
                failures.Add($"{project.Name}: project resource of the AppHost has no container app in the Bicep");
            }

            var projectDirectory = Path.GetDirectoryName(project.ProjectPath)!;
            if (!azureYaml.TryGetValue(project.Name, out var service))
            {
                failures.Add($"{project.Name}: no service of that name in azure.yaml");
            }
            else if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(deployment.RepoRoot, service["project"]))) != projectDirectory)
            {
                failures.Add($"{project.Name}: azure.yaml deploys {service["project"]}, the AppHost runs {project.ProjectPath}");
            }
        }

        foreach (var container in Manifest.Containers.Keys.Where(container => !apps.Contains(container)))
        {
            failures.Add($"{container}: container resource of the AppHost has no container app in the Bicep");
        }

        foreach (var app in apps.Where(app => !Manifest.Projects.ContainsKey(app) && !Manifest.Containers.ContainsKey(app)))
        {
            failures.Add($"{app}: container app in the Bicep with no project or container resource in the AppHost");
        }

        AssertNoDrift(failures);
    }

    [Fact]
    public void EveryBindingHasIngressOfTheSameReachAndTransport()
    {
        var failures = new List<string>();
        var ports = ContainerPorts(failures);
        foreach (var project in Manifest.Projects.Values)
        {
            if (!TryApp(project.Name, failures, out var app))
            {
                continue;
            }

            foreach (var binding in project.Bindings.Values)
            {
                var where = $"{project.Name}: binding {binding.Name} ({binding})";
                ports.TryGetValue((project.Name, binding.Name), out var port);
                if (Find(BindingsWithoutIngress, project.Name, binding.Name) is { } exemption)
                {
                    if (port is not null && IngressOn(app, port.Value) is not null)
                    {
                        failures.Add($"{where} has ingress on container port {port}, but the allow-list says it has none ({exemption.Why})");
                    }

                    continue;
                }

                var problem = binding.Scheme switch
                {
                    "http" => CheckPlainBinding(app, binding, port),
                    "https" => CheckTlsBinding(app, binding, port),
                    _ => $"scheme {binding.Scheme} has no rule here",
                };
                if (problem is not null)
                {
                    failures.Add($"{where}: {problem}");
                }
            }
        }

        AssertNoDrift(failures);
    }

    [Fact]
    public void EveryEnvironmentVariableIsDeployedWithTheSameMeaningOrAllowListed()
    {
        var failures = new List<string>();
        var ports = ContainerPorts(failures);
        foreach (var project in Manifest.Projects.Values)
        {
            if (!TryApp(project.Name, failures, out var app))
            {
                continue;
            }

            foreach (var (name, manifestValue) in project.Env)
            {
                var where = $"{project.Name}: {name}";
                if (Find(VariablesNotDeployed, project.Name, name) is { } notDeployed)
                {
                    if (app.HasVariable(name))
                    {
                        failures.Add($"{where} is deployed, but the allow-list says it must not be ({notDeployed.Why})");
                    }

                    continue;
                }

                var deployedName = Find(VariablesRenamed, project.Name, name)?.DeployedAs ?? name;
                if (!app.HasVariable(deployedName))
                {
                    failures.Add($"{where} = '{manifestValue}' in the AppHost has no counterpart"
                        + (deployedName == name ? "" : $" {deployedName}") + " in the Bicep; deploy it, or allow-list it in ManifestTests with the reason");
                    continue;
                }

                var problem = CompareValue(app, app.Variable(deployedName), manifestValue, ports);
                if (problem is not null)
                {
                    failures.Add($"{where}{(deployedName == name ? "" : $" (deployed as {deployedName})")}: {problem}");
                }
            }
        }

        AssertNoDrift(failures);
    }

    [Fact]
    public void EveryContainerResourceIsAContainerAppWithTheSameImageCommandPortAndEnvironment()
    {
        var failures = new List<string>();
        foreach (var container in Manifest.Containers.Values)
        {
            if (!TryApp(container.Name, failures, out var app))
            {
                continue;
            }

            var deployed = app.Container;
            if ((string?)deployed["image"] != container.Image)
            {
                failures.Add($"{container.Name}: image {deployed["image"]} in the Bicep, {container.Image} in the AppHost");
            }

            string[] command = [.. deployed["command"]?.AsArray().Select(part => (string)part!) ?? []];
            string[] entrypoint = container.Entrypoint is null ? [] : [container.Entrypoint];
            if (!command.SequenceEqual(entrypoint))
            {
                failures.Add($"{container.Name}: command [{string.Join(", ", command)}] in the Bicep, entrypoint [{string.Join(", ", entrypoint)}] in the AppHost");
            }

            string[] args = [.. deployed["args"]?.AsArray().Select(arg => (string)arg!) ?? []];
            if (!args.SequenceEqual(container.Args))
            {
                failures.Add($"{container.Name}: args [{string.Join(", ", args)}] in the Bicep, [{string.Join(", ", container.Args)}] in the AppHost");
            }

            // One TCP binding: the app's TCP ingress on the same container port, of the same reach.
            foreach (var binding in container.Bindings.Values)
            {
                var ingress = app.Ingress;
                if (binding.Transport != "tcp" || container.Bindings.Count > 1)
                {
                    failures.Add($"{container.Name}: binding {binding.Name} ({binding}) has no rule here; only one TCP binding maps to a container app's ingress");
                }
                else if ((string?)ingress["transport"] != "tcp" || (int?)ingress["targetPort"] != binding.TargetPort
                    || (bool)ingress["external"]! != binding.External)
                {
                    failures.Add($"{container.Name}: binding {binding.Name} ({binding}) but ingress {ingress.ToJsonString()} in the Bicep");
                }
            }

            foreach (var (name, manifestValue) in container.Env)
            {
                var problem = app.HasVariable(name)
                    ? CompareValue(app, app.Variable(name), manifestValue, [])
                    : $"= '{manifestValue}' in the AppHost has no counterpart in the Bicep";
                if (problem is not null)
                {
                    failures.Add($"{container.Name}: {name}: {problem}");
                }
            }
        }

        AssertNoDrift(failures);
    }

    [Fact]
    public void EverySecretParameterIsASecureTemplateParameter()
    {
        var failures = new List<string>();
        var templateParameters = deployment.ArmTemplate["parameters"]!.AsObject();
        foreach (var parameter in Manifest.Parameters.Values)
        {
            var bicepName = AzdTests.BicepName(parameter.Name);
            var declaration = templateParameters[bicepName];
            if (ParametersNotDeployed.ContainsKey(parameter.Name))
            {
                if (declaration is not null)
                {
                    failures.Add($"parameter {parameter.Name}: main.bicep declares {bicepName}, but the allow-list says it is not deployed");
                }

                continue;
            }

            if (declaration is null)
            {
                failures.Add($"parameter {parameter.Name}: main.bicep has no parameter {bicepName}");
            }
            else if (parameter.Secret && (string?)declaration["type"] != "securestring")
            {
                failures.Add($"parameter {parameter.Name}: secret in the AppHost, but main.bicep's {bicepName} is {declaration["type"]}, not @secure()");
            }
        }

        AssertNoDrift(failures);
    }

    [Fact]
    public void AllowListNamesOnlyWhatTheManifestHas()
    {
        // A stale entry would silently excuse a variable or binding that comes back later with another meaning.
        var stale = new List<string>();
        foreach (var entry in VariablesNotDeployed.Concat(VariablesRenamed))
        {
            if (!Manifest.Projects.TryGetValue(entry.Resource, out var project) || !project.Env.ContainsKey(entry.Name))
            {
                stale.Add($"{entry.Resource}: variable {entry.Name}");
            }
        }

        foreach (var entry in BindingsWithoutIngress)
        {
            if (!Manifest.Projects.TryGetValue(entry.Resource, out var project) || !project.Bindings.ContainsKey(entry.Name))
            {
                stale.Add($"{entry.Resource}: binding {entry.Name}");
            }
        }

        stale.AddRange(ParametersNotDeployed.Keys.Where(name => !Manifest.Parameters.ContainsKey(name)).Select(name => $"parameter {name}"));

        Assert.True(stale.Count == 0,
            $"The manifest no longer has these allow-listed items; remove them from ManifestTests:{Environment.NewLine}{string.Join(Environment.NewLine, stale)}");
    }

    /// <summary>
    /// The container port that serves each binding in the deployment. The manifest names a binding's port only
    /// through the variables that make the app listen on it (Kestrel__Endpoints__h2c__Url = http://*:{…h2c.targetPort},
    /// HTTP_PORTS = {…http.targetPort}), so the port is read from the deployed value of that variable. A binding
    /// with no such variable (https, whose TLS the platform ends) shares the port of the binding with its targetPort.
    /// </summary>
    private Dictionary<(string Resource, string Binding), int?> ContainerPorts(List<string> failures)
    {
        var ports = new Dictionary<(string Resource, string Binding), int?>();
        foreach (var project in Manifest.Projects.Values)
        {
            if (!TryApp(project.Name, [], out var app))
            {
                continue;
            }

            foreach (var (name, manifestValue) in project.Env)
            {
                var deployedName = Find(VariablesRenamed, project.Name, name)?.DeployedAs ?? name;
                if (Find(VariablesNotDeployed, project.Name, name) is not null || !app.HasVariable(deployedName)
                    || (string?)app.Variable(deployedName)["value"] is not { } deployedValue)
                {
                    continue;
                }

                // Every expression becomes a group; the targetPort ones of this project name their binding.
                var pattern = new StringBuilder("^");
                var groups = new List<string>();
                foreach (var segment in Segments(manifestValue))
                {
                    if (segment.Expression is null)
                    {
                        pattern.Append(LiteralPattern(segment.Text));
                    }
                    else if (segment.Expression.Resource == project.Name && segment.Expression.Binding is { } binding
                        && segment.Expression.Property == "targetPort")
                    {
                        groups.Add(binding);
                        pattern.Append(CultureInfo.InvariantCulture, $"(?<g{groups.Count - 1}>\\d+)");
                    }
                    else
                    {
                        pattern.Append(".*?");
                    }
                }

                var match = Regex.Match(ArmExpression.Resolve(deployedValue), pattern.Append('$').ToString());
                for (var i = 0; match.Success && i < groups.Count; i++)
                {
                    var port = int.Parse(match.Groups[$"g{i}"].Value, CultureInfo.InvariantCulture);
                    var key = (project.Name, groups[i]);
                    if (ports.TryGetValue(key, out var known) && known != port)
                    {
                        failures.Add($"{project.Name}: binding {groups[i]} listens on {known} by one variable and on {port} by {deployedName}");
                    }

                    ports[key] = port;
                }
            }

            foreach (var binding in project.Bindings.Values.Where(binding => !ports.ContainsKey((project.Name, binding.Name))))
            {
                var sibling = project.Bindings.Values.FirstOrDefault(other => other.TargetPort is not null
                    && other.TargetPort == binding.TargetPort && ports.ContainsKey((project.Name, other.Name)));
                ports[(project.Name, binding.Name)] = sibling is null ? null : ports[(project.Name, sibling.Name)];
            }
        }

        return ports;
    }

    /// <summary>Cleartext binding: ingress (main or extra port) on its container port, same reach; main ingress also same transport.</summary>
    private static string? CheckPlainBinding(ContainerApp app, ManifestBinding binding, int? port)
    {
        if (port is null)
        {
            return "no variable in the manifest says which port the app listens on for it, so its ingress cannot be checked";
        }

        if (IngressOn(app, port.Value) is not var (ingress, isMain))
        {
            return $"no ingress on its container port {port} in the Bicep";
        }

        var external = (bool)ingress["external"]!;
        if (external != binding.External)
        {
            return $"{(external ? "external" : "internal")} ingress in the Bicep, {(binding.External ? "external" : "internal")} in the AppHost";
        }

        // Extra ports are plain TCP: the transport is the app's business.
        var transport = (string?)ingress["transport"];
        return isMain && transport != binding.Transport
            ? $"ingress transport {transport} in the Bicep, {binding.Transport} in the AppHost"
            : null;
    }

    /// <summary>TLS binding: the platform ends TLS on the main ingress, which must have the same reach (and target the same endpoint).</summary>
    private static string? CheckTlsBinding(ContainerApp app, ManifestBinding binding, int? port)
    {
        var ingress = app.Ingress;
        var external = (bool)ingress["external"]!;
        if (external != binding.External)
        {
            return $"{(external ? "external" : "internal")} ingress in the Bicep, {(binding.External ? "external" : "internal")} in the AppHost";
        }

        return port is not null && port != app.TargetPort
            ? $"the AppHost serves it on the endpoint of container port {port}, the ingress targets {app.TargetPort}"
            : null;
    }

    /// <summary>Compares one deployed variable with the manifest's value, expressions translated to the deployment.</summary>
    private string? CompareValue(ContainerApp app, JsonObject deployed, string manifestValue, Dictionary<(string, string), int?> ports)
    {
        var segments = Segments(manifestValue);
        var secretRef = (string?)deployed["secretRef"];
        if (segments is [{ Expression: { Binding: null, Property: "value" } expression }]
            && Manifest.Parameters.TryGetValue(expression.Resource, out var parameter))
        {
            if (!parameter.Secret)
            {
                return $"plain parameter {parameter.Name} has no rule here; teach ManifestTests how it is deployed";
            }

            if (secretRef is null)
            {
                return $"AppHost parameter {parameter.Name} is secret, but the Bicep sets a plain value instead of a secretRef";
            }

            var expected = $"[parameters('{AzdTests.BicepName(parameter.Name)}')]";
            var secret = app.Secrets.FirstOrDefault(s => (string?)s["name"] == secretRef);
            return (string?)secret?["value"] == expected
                ? null
                : $"secretRef {secretRef} holds {secret?["value"]?.ToString() ?? "nothing"}, expected the secure parameter {expected}";
        }

        if (segments is [{ Expression: { Binding: null, Property: "connectionString" } connection }]
            && Manifest.Containers.TryGetValue(connection.Resource, out var container) && container.ConnectionString is { } connectionString)
        {
            return CompareConnectionString(app, secretRef, container, connectionString);
        }

        if (secretRef is not null)
        {
            return $"a secretRef ({secretRef}) in the Bicep, the plain value '{manifestValue}' in the AppHost";
        }

        var pattern = new StringBuilder("^");
        foreach (var segment in segments)
        {
            if (segment.Expression is not { } reference)
            {
                pattern.Append(LiteralPattern(segment.Text));
                continue;
            }

            var translated = reference switch
            {
                { Binding: { } binding, Property: "targetPort" } => ports.GetValueOrDefault((reference.Resource, binding)) is { } port
                    ? Translation.Of(port.ToString(CultureInfo.InvariantCulture))
                    : Translation.Fail($"{segment.Text}: no container port known for that binding"),
                { Binding: { } binding, Property: "url" } => DeployedUrl(reference.Resource, binding, ports),
                _ => Translation.Fail($"{segment.Text} has no rule here; teach ManifestTests how it is deployed"),
            };
            if (translated.Problem is not null)
            {
                return translated.Problem;
            }

            pattern.Append(Regex.Escape(translated.Value!));
        }

        var deployedValue = ArmExpression.Resolve((string)deployed["value"]!);
        return Regex.IsMatch(deployedValue, pattern.Append('$').ToString())
            ? null
            : $"'{deployedValue}' in the Bicep, but the AppHost's '{manifestValue}' means {pattern}";
    }

    /// <summary>
    /// A connection string to a container resource carries its password: it must be a secret whose value is the same
    /// address (the container app's TCP ingress, &lt;app&gt;:&lt;exposedPort&gt;) and the same secure parameter.
    /// </summary>
    private string? CompareConnectionString(ContainerApp app, string? secretRef, ManifestContainer container, string connectionString)
    {
        if (secretRef is null)
        {
            return $"the connection string to {container.Name} carries its password, but the Bicep sets a plain value instead of a secretRef";
        }

        if (app.Secrets.FirstOrDefault(s => (string?)s["name"] == secretRef)?["value"] is not { } secretValue)
        {
            return $"secretRef {secretRef} names no secret of {app.Name}";
        }

        if (!TryApp(container.Name, [], out var target))
        {
            return $"{container.Name} has no container app";
        }

        var expected = new StringBuilder();
        foreach (var segment in Segments(connectionString))
        {
            var translated = segment.Expression switch
            {
                null => Translation.Of(segment.Text),
                { Binding: not null, Property: "host" } reference when reference.Resource == container.Name => Translation.Of(container.Name),
                { Binding: not null, Property: "port" } reference when reference.Resource == container.Name
                    => Translation.Of(((int?)target.Ingress["exposedPort"])?.ToString(CultureInfo.InvariantCulture) ?? "<no exposedPort>"),
                { Binding: null, Property: "value" } reference when Manifest.Parameters.TryGetValue(reference.Resource, out var parameter) && parameter.Secret
                    => Translation.Of(ArmExpression.Parameter(AzdTests.BicepName(parameter.Name))),
                { Binding: null, Property: "connectionString" } reference when Manifest.Values.TryGetValue(reference.Resource, out var value)
                    => Translation.Of(value),
                _ => Translation.Fail($"{segment.Text} in {container.Name}'s connection string has no rule here; teach ManifestTests how it is deployed"),
            };
            if (translated.Problem is not null)
            {
                return translated.Problem;
            }

            expected.Append(translated.Value);
        }

        var deployed = ArmExpression.ResolveWithParameters((string)secretValue!);
        return deployed == expected.ToString()
            ? null
            : $"secret {secretRef} holds '{deployed}', but the AppHost's '{connectionString}' means '{expected}'";
    }

    /// <summary>
    /// The address other apps use for a binding inside the environment (Aspire's Container Apps conventions, as in
    /// resources.bicep): the ingress is http(s)://&lt;app&gt;[.internal].&lt;domain&gt; (port 80/443 on the platform's
    /// proxy), an extra port is http://&lt;app&gt;:&lt;exposedPort&gt; (TCP straight to a replica).
    /// </summary>
    private Translation DeployedUrl(string resource, string bindingName, Dictionary<(string, string), int?> ports)
    {
        if (!Manifest.Projects.TryGetValue(resource, out var project) || !project.Bindings.TryGetValue(bindingName, out var binding))
        {
            return Translation.Fail($"{{{resource}.bindings.{bindingName}.url}}: no such project binding in the manifest");
        }

        if (!TryApp(resource, [], out var target))
        {
            return Translation.Fail($"{{{resource}.bindings.{bindingName}.url}}: {resource} has no container app");
        }

        var host = (bool)target.Ingress["external"]! ? $"{resource}.{ArmExpression.DefaultDomain}" : $"{resource}.internal.{ArmExpression.DefaultDomain}";
        if (binding.Scheme == "https")
        {
            return Translation.Of($"https://{host}");
        }

        if (ports.GetValueOrDefault((resource, bindingName)) is not { } port)
        {
            return Translation.Fail($"{{{resource}.bindings.{bindingName}.url}}: no container port known for that binding");
        }

        var where = $"{{{resource}.bindings.{bindingName}.url}}";
        if (IngressOn(target, port) is not var (ingress, isMain))
        {
            return Translation.Fail($"{where}: {resource} has no ingress on container port {port}");
        }

        if (!isMain)
        {
            return Translation.Of($"http://{resource}:{(int)ingress["exposedPort"]!}");
        }

        // Without allowInsecure the platform answers http:// with a redirect to https.
        return (bool)ingress["allowInsecure"]!
            ? Translation.Of($"http://{host}")
            : Translation.Fail($"{where} is http://, but {resource}'s ingress does not allow plain HTTP");
    }

    /// <summary>The main ingress or extra port mapping that forwards to a container port.</summary>
    private static (JsonObject Ingress, bool IsMain)? IngressOn(ContainerApp app, int containerPort)
    {
        if (app.TargetPort == containerPort)
        {
            return (app.Ingress, true);
        }

        var mapping = app.Ingress["additionalPortMappings"]?.AsArray()
            .Select(node => node!.AsObject())
            .FirstOrDefault(mapping => (int)mapping["targetPort"]! == containerPort);
        return mapping is null ? null : (mapping, false);
    }

    private bool TryApp(string name, List<string> failures, out ContainerApp app)
    {
        var resource = Deployed.OfType(DeploymentSnapshot.ContainerAppType).FirstOrDefault(r => (string?)r["name"] == name);
        app = resource is null ? null! : new ContainerApp(resource);
        if (resource is null)
        {
            failures.Add($"{name}: no container app in the Bicep");
        }

        return resource is not null;
    }

    private static Difference? Find(IEnumerable<Difference> list, string resource, string name) =>
        list.FirstOrDefault(entry => entry.Resource == resource && entry.Name == name);

    /// <summary>A literal part of a manifest value; in a URL's host, Kestrel reads * and + alike (any address).</summary>
    private static string LiteralPattern(string text) =>
        Regex.Escape(text).Replace("://\\*:", "://[*+]:", StringComparison.Ordinal);

    private static List<Segment> Segments(string value)
    {
        var segments = new List<Segment>();
        var position = 0;
        foreach (Match match in ManifestExpression().Matches(value))
        {
            if (match.Index > position)
            {
                segments.Add(new Segment(value[position..match.Index], null));
            }

            var binding = match.Groups["binding"].Success ? match.Groups["binding"].Value : null;
            segments.Add(new Segment(match.Value, new Reference(match.Groups["resource"].Value, binding, match.Groups["property"].Value)));
            position = match.Index + match.Length;
        }

        if (position < value.Length)
        {
            segments.Add(new Segment(value[position..], null));
        }

        return segments;
    }

    private static void AssertNoDrift(List<string> failures) =>
        Assert.True(failures.Count == 0,
            $"The Bicep (infra/) has drifted from the AppHost's manifest:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");

    // {resource.bindings.name.property} or {resource.property}
    [GeneratedRegex(@"\{(?<resource>[^.{}]+)\.(?:bindings\.(?<binding>[^.{}]+)\.)?(?<property>[^.{}]+)\}")]
    private static partial Regex ManifestExpression();

    /// <summary>One intentional difference: what, where, why (and, for a rename, the deployed name).</summary>
    private sealed record Difference(string Resource, string Name, string Why, string? DeployedAs = null);

    private sealed record Reference(string Resource, string? Binding, string Property);

    private sealed record Segment(string Text, Reference? Expression);

    private sealed record Translation(string? Value, string? Problem)
    {
        public static Translation Of(string value) => new(value, null);

        public static Translation Fail(string problem) => new(null, problem);
    }
}
