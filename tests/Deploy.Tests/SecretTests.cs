namespace Deploy.Tests;

/// <summary>Secrets live in Container Apps secrets and reach the process through secretRef only.</summary>
[Collection(DeploymentGroup.Name)]
public sealed class SecretTests(DeploymentFixture deployment)
{
    [Theory]
    [InlineData("metrics-api", "StreamTickets__SigningKey", "stream-tickets-signing-key", "streamTicketSigningKey")]
    [InlineData("dashboard-web", "Authentication__Schemes__OpenIdConnect__ClientSecret", "oidc-client-secret", "dashboardClientSecret")]
    [InlineData("redis", "REDIS_PASSWORD", "redis-password", "redisPassword")]
    public void SecretSettingIsASecretReferenceBackedByASecureParameter(
        string appName, string variable, string secretName, string parameter)
    {
        var app = deployment.Deployed.App(appName);

        var setting = app.Variable(variable);
        Assert.Null(setting["value"]);
        Assert.Equal(secretName, (string?)setting["secretRef"]);
        var secret = Assert.Single(app.Secrets, s => (string?)s["name"] == secretName);
        Assert.Equal($"[parameters('{parameter}')]", (string?)secret["value"]);
    }

    [Fact]
    public void EverySecretReferenceResolvesAndNoVariableHasBothForms()
    {
        Assert.All(deployment.Deployed.AllContainerApps, app =>
        {
            var secretNames = app.Secrets.Select(secret => (string)secret["name"]!).ToHashSet();
            foreach (var variable in app.Env)
            {
                var secretRef = (string?)variable["secretRef"];
                Assert.False(secretRef is not null && variable["value"] is not null, $"{app}: {variable["name"]} has value and secretRef");
                Assert.True(secretRef is null || secretNames.Contains(secretRef), $"{app}: unknown secret {secretRef}");
            }
        });
    }

    [Fact]
    public void VariablesNamedLikeSecretsNeverCarryPlainValues()
    {
        string[] secretWords = ["secret", "key", "password", "token", "connectionstring"];
        Assert.All(deployment.Deployed.AllContainerApps, app =>
        {
            foreach (var variable in app.Env)
            {
                var name = ((string)variable["name"]!).ToLowerInvariant();
                if (secretWords.Any(word => name.Contains(word, StringComparison.Ordinal)))
                {
                    Assert.True(variable["value"] is null, $"{app}: {name} is set in clear");
                }
            }
        });
    }

    [Fact]
    public void OnlyTheAppThatNeedsASecretGetsIt()
    {
        Assert.Empty(deployment.Deployed.App("edge-proxy").Secrets);
        Assert.Equal(["stream-tickets-signing-key", "redis-connection-string"], deployment.Deployed.App("metrics-api").Secrets.Select(s => (string)s["name"]!));
        Assert.Equal(["redis-password"], deployment.Deployed.App("redis").Secrets.Select(s => (string)s["name"]!));
        Assert.Equal(["oidc-client-secret"], deployment.Deployed.App("dashboard-web").Secrets.Select(s => (string)s["name"]!));
    }
}
