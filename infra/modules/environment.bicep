// Container Apps environment (workload-profiles kind, Consumption profile) with logs to Log Analytics
// and the environment-level Aspire dashboard (a .NET component of the environment).

param name string
param location string
param tags object = {}

@description('Name of the Log Analytics workspace (same resource group) that receives the logs.')
param logAnalyticsWorkspaceName string

@description('Create the Aspire dashboard component for the environment.')
param enableAspireDashboard bool = true

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

// Same shape as Aspire's AddAzureContainerAppEnvironment output (name 'aspire-dashboard').
// The platform hosts the dashboard and collects OpenTelemetry from the apps of this environment.
resource aspireDashboard 'Microsoft.App/managedEnvironments/dotNetComponents@2026-07-01' = if (enableAspireDashboard) {
  parent: environment
  name: 'aspire-dashboard'
  properties: {
    componentType: 'AspireDashboard'
  }
}

output id string = environment.id
output name string = environment.name
output defaultDomain string = environment.properties.defaultDomain
// Pattern used by azd/Aspire for the dashboard link; confirm it in the portal after the first deploy.
output aspireDashboardUrl string = enableAspireDashboard
  ? 'https://aspire-dashboard.ext.${environment.properties.defaultDomain}'
  : ''
