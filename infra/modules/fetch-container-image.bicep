// Reads the image a container app runs now, so that re-provisioning keeps what `azd deploy` pushed
// instead of going back to the placeholder. On the first provision (exists = false) it returns [].

@description('Whether the container app exists already (azd sets SERVICE_<NAME>_RESOURCE_EXISTS).')
param exists bool

@description('Container app name.')
param name string

resource existingApp 'Microsoft.App/containerApps@2026-07-01' existing = if (exists) {
  name: name
}

output containers array = exists ? existingApp!.properties.template.containers : []
