// Azure Container Apps deployment of the live-metrics system, driven by azd (azure.yaml).
// Subscription scope: creates the resource group, then everything else in resources.bicep.
// Validate offline with infra/validate.sh; design and first-deploy checks in docs/deploy.md.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name (AZURE_ENV_NAME); names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Azure region for all resources (AZURE_LOCATION).')
param location string

@description('Object id of the principal running azd (AZURE_PRINCIPAL_ID); gets AcrPush on the registry. Empty to skip.')
param principalId string = ''

@description('Kind of principalId: User for a person, ServicePrincipal for a CI identity.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

// azd sets SERVICE_<NAME>_RESOURCE_EXISTS; see main.parameters.json.
param edgeProxyExists bool = false
param metricsApiExists bool = false
param dashboardWebExists bool = false

@description('Entra ID tenant that issues the tokens. Defaults to the tenant of the deployment.')
param entraTenantId string = tenant().tenantId

@minLength(1)
@description('Application (client) id of the Metrics API app registration: the audience of v2 access tokens.')
param metricsApiClientId string

@description('Application ID URI of the Metrics API app registration (audience of v1 tokens). Defaults to api://<client id>.')
param metricsApiAppIdUri string = 'api://${metricsApiClientId}'

@minLength(1)
@description('Application (client) id of the dashboard web app registration (OpenID Connect client).')
param dashboardClientId string

@secure()
@minLength(1)
@description('Client secret of the dashboard web app registration. Stored as a Container Apps secret.')
param dashboardClientSecret string

@secure()
@minLength(32)
@description('Signing key of the short-lived stream tickets (at least 32 characters, e.g. `openssl rand -base64 48`). Stored as a Container Apps secret.')
param streamTicketSigningKey string

@secure()
@minLength(32)
@description('Password of the Redis that carries Metrics.Api\'s shared event log: letters and digits only, at least 32 (e.g. `openssl rand -hex 32`). Stored as a Container Apps secret.')
param redisPassword string

@description('OTLP endpoint for all apps. Empty: leave OTEL_EXPORTER_OTLP_* to the platform (environment Aspire dashboard). See docs/deploy.md.')
param otlpEndpoint string = ''

@allowed([
  'grpc'
  'http/protobuf'
])
@description('OTLP protocol, used only with otlpEndpoint.')
param otlpProtocol string = 'grpc'

@minValue(0)
param edgeProxyMinReplicas int = 1
@minValue(1)
param edgeProxyMaxReplicas int = 10
@minValue(1)
@description('Open requests per edge replica before another replica is added; every open SSE stream counts.')
param edgeProxyConcurrentRequests int = 500

@minValue(0)
@description('Two or more: the replicas share one event log on Redis, so a client resumes on any replica and a replica lost loses no event.')
param metricsApiMinReplicas int = 2
@minValue(1)
param metricsApiMaxReplicas int = 10
@minValue(1)
@description('Open requests (streams) per metrics-api replica before another replica is added.')
param metricsApiConcurrentRequests int = 250

@minValue(0)
param dashboardWebMinReplicas int = 1
@minValue(1)
param dashboardWebMaxReplicas int = 3

@minValue(30)
@maxValue(600)
@description('SIGTERM-to-SIGKILL time of every replica. Must exceed the stream drain (a few seconds) and the apps\' host shutdown timeout.')
param terminationGracePeriodSeconds int = 60

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'resources'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    principalId: principalId
    principalType: principalType
    edgeProxyExists: edgeProxyExists
    metricsApiExists: metricsApiExists
    dashboardWebExists: dashboardWebExists
    entraAuthority: '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0'
    metricsApiClientId: metricsApiClientId
    metricsApiAppIdUri: metricsApiAppIdUri
    dashboardClientId: dashboardClientId
    dashboardClientSecret: dashboardClientSecret
    streamTicketSigningKey: streamTicketSigningKey
    redisPassword: redisPassword
    otlpEndpoint: otlpEndpoint
    otlpProtocol: otlpProtocol
    edgeProxyScale: {
      minReplicas: edgeProxyMinReplicas
      maxReplicas: edgeProxyMaxReplicas
      concurrentRequests: edgeProxyConcurrentRequests
    }
    metricsApiScale: {
      minReplicas: metricsApiMinReplicas
      maxReplicas: metricsApiMaxReplicas
      concurrentRequests: metricsApiConcurrentRequests
    }
    dashboardWebScale: {
      minReplicas: dashboardWebMinReplicas
      maxReplicas: dashboardWebMaxReplicas
      concurrentRequests: 100
    }
    terminationGracePeriodSeconds: terminationGracePeriodSeconds
  }
}

// azd reads these into the environment (.azure/<env>/.env). No secrets here.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = resources.outputs.registryLoginServer
output AZURE_CONTAINER_REGISTRY_NAME string = resources.outputs.registryName
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = resources.outputs.environmentName
output AZURE_CONTAINER_APPS_ENVIRONMENT_ID string = resources.outputs.environmentId
output AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN string = resources.outputs.environmentDefaultDomain
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = resources.outputs.identityClientId
output ASPIRE_DASHBOARD_URL string = resources.outputs.aspireDashboardUrl
output SERVICE_EDGE_PROXY_ENDPOINT_URL string = 'https://${resources.outputs.edgeProxyFqdn}'
output SERVICE_METRICS_API_FQDN string = resources.outputs.metricsApiFqdn
output SERVICE_DASHBOARD_WEB_FQDN string = resources.outputs.dashboardWebFqdn
