namespace Deploy.Tests;

/// <summary>
/// Metrics.Api's replicas share one event log on Redis (issue #16): a Redis container app inside the environment,
/// Metrics.Api at two replicas or more with the backplane on, and the password only ever in Container Apps secrets.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed class RedisTests(DeploymentFixture deployment)
{
    [Fact]
    public void RedisIsOneContainerAppReachableOnlyInsideTheEnvironmentOverTcp()
    {
        var redis = deployment.Deployed.App("redis");

        Assert.False((bool)redis.Ingress["external"]!);
        Assert.Equal("tcp", (string?)redis.Ingress["transport"]);
        Assert.Equal(6379, redis.TargetPort);
        Assert.Equal(6379, (int?)redis.Ingress["exposedPort"]);
        Assert.Empty(redis.Ingress["additionalPortMappings"]?.AsArray() ?? []);
        // One log: a second replica would be a second, separate Redis behind the same name.
        Assert.Equal(1, (int)redis.Scale["minReplicas"]!);
        Assert.Equal(1, (int)redis.Scale["maxReplicas"]!);
        Assert.All(["Liveness", "Readiness"], type => Assert.Equal(6379, (int?)redis.Probe(type)["tcpSocket"]?["port"]));
    }

    [Fact]
    public void MetricsApiRunsAtLeastTwoReplicasOnTheRedisBackplane()
    {
        var api = deployment.Deployed.App("metrics-api");

        Assert.True((int)api.Scale["minReplicas"]! >= 2, $"minReplicas = {api.Scale["minReplicas"]}");
        Assert.Equal("Redis", api.Value("Streaming__Backplane"));
    }

    [Fact]
    public void MetricsApiGetsTheConnectionStringOnlyAsASecretOfRedisAddressAndSecurePassword()
    {
        var api = deployment.Deployed.App("metrics-api");

        var setting = api.Variable("ConnectionStrings__redis");
        Assert.Null(setting["value"]);
        var secret = Assert.Single(api.Secrets, s => (string?)s["name"] == (string?)setting["secretRef"]);
        // redis:6379 is the Redis app's TCP ingress inside the environment; the password is the secure parameter.
        Assert.Equal($"redis:6379,password={ArmExpression.Parameter("redisPassword")}", ArmExpression.ResolveWithParameters((string)secret["value"]!));
        Assert.Equal("securestring", (string?)deployment.ArmTemplate["parameters"]!["redisPassword"]!["type"]);

        // Nothing else reads Redis, and no variable anywhere names the password in clear.
        Assert.All(deployment.Deployed.AllContainerApps.Where(app => app.Name != "metrics-api"),
            app => Assert.DoesNotContain(app.EnvNames, name => name.StartsWith("ConnectionStrings__", StringComparison.Ordinal)));
        Assert.All(deployment.Deployed.AllContainerApps, app => Assert.All(app.Env,
            variable => Assert.DoesNotContain("redisPassword", variable["value"]?.ToString() ?? "", StringComparison.Ordinal)));
    }
}
