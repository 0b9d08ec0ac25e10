#Requires -RunAsAdministrator
<#
.SYNOPSIS
  Installs contention-agent as a Windows service, wrapped by WinSW.

.DESCRIPTION
  Copies the built agent (dist, node_modules, the page, rules), a copy of node.exe and the WinSW
  wrapper into -InstallDir, writes a default config under %ProgramData%\contention-agent unless one
  is there, registers the event source the agent writes policy decisions and alerts under, then
  installs and starts the service. Running it again upgrades in place and keeps the config and logs.

  Run it from the agent's folder after `npm ci` and `npm run build`.

.PARAMETER WinSWPath
  A WinSW executable already on this host (WinSW-x64.exe, 2.x). Without it, the pinned release is
  downloaded from GitHub.

.PARAMETER WinSWSha256
  The SHA-256 the WinSW executable must have. Checked whenever given; recommended, and needed to
  trust a download. Without it the script prints the hash it got so you can pin it.

.PARAMETER NodePath
  node.exe to run the agent with (Node 20 or later). Defaults to the node on PATH. It is copied, so
  later Node upgrades reach the service when this script runs again.

.EXAMPLE
  .\deploy\windows\install.ps1 -WinSWPath C:\tools\WinSW-x64.exe -WinSWSha256 <hash>
#>
[CmdletBinding()]
param(
  [string] $WinSWPath,
  [string] $WinSWSha256,
  [string] $NodePath,
  [string] $PackageDir = (Join-Path $PSScriptRoot '..\..'),
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'contention-agent'),
  [string] $ConfigFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ServiceId = 'contention-agent'
$EventSource = 'contention-agent'
$WinSWVersion = 'v2.12.0'
$WinSWUrl = "https://github.com/winsw/winsw/releases/download/$WinSWVersion/WinSW-x64.exe"
# .NET's message file: every event ID's message is "%1", so the agent's text is the whole description.
$EventMessageFile = '%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll'
$DataDir = Join-Path $env:ProgramData 'contention-agent'
$LogDir = Join-Path $DataDir 'logs'
$ConfigPath = Join-Path $DataDir 'config.yaml'
$Wrapper = Join-Path $InstallDir "$ServiceId.exe"

function Step([string] $what) { Write-Host "==> $what" }

# --- What the install needs -------------------------------------------------------------------
$PackageDir = (Resolve-Path -LiteralPath $PackageDir).Path
foreach ($need in @('package.json', 'dist\agent\cli.js', 'node_modules', 'agent\http\page', 'deploy\windows\contention-agent.xml')) {
  if (-not (Test-Path -LiteralPath (Join-Path $PackageDir $need))) {
    throw "$PackageDir has no ${need}: run 'npm ci' and 'npm run build' in the agent's folder first"
  }
}
if (-not $NodePath) {
  $node = Get-Command node -ErrorAction SilentlyContinue
  if (-not $node) { throw 'node.exe not found on PATH: install Node 20 or later, or pass -NodePath' }
  $NodePath = $node.Source
}
$nodeVersion = (& $NodePath --version).Trim()
if ($nodeVersion -notmatch '^v(\d+)\.' -or [int]$Matches[1] -lt 20) { throw "$NodePath is $nodeVersion; the agent needs Node 20 or later" }

# --- WinSW ------------------------------------------------------------------------------------
$staged = Join-Path ([System.IO.Path]::GetTempPath()) "contention-agent-winsw-$([guid]::NewGuid().ToString('N')).exe"
if ($WinSWPath) {
  Copy-Item -LiteralPath $WinSWPath -Destination $staged
} else {
  Step "Downloading WinSW $WinSWVersion"
  [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
  Invoke-WebRequest -UseBasicParsing -Uri $WinSWUrl -OutFile $staged
}
$hash = (Get-FileHash -LiteralPath $staged -Algorithm SHA256).Hash
if ($WinSWSha256) {
  if ($hash -ne $WinSWSha256.ToUpperInvariant()) { Remove-Item -LiteralPath $staged; throw "WinSW SHA-256 is $hash, expected $WinSWSha256" }
} else {
  Write-Warning "WinSW not checked against a known hash; it is $hash. Pass -WinSWSha256 $hash to pin it on other hosts."
}

# --- Stop an installed version ----------------------------------------------------------------
if (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue) {
  Step 'Stopping the installed service for the upgrade'
  Stop-Service -Name $ServiceId -ErrorAction SilentlyContinue
  if (Test-Path -LiteralPath $Wrapper) { & $Wrapper uninstall | Out-Host } else { & sc.exe delete $ServiceId | Out-Host }
  for ($i = 0; $i -lt 30 -and (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue); $i++) { Start-Sleep -Seconds 1 }
}

# --- Program files ----------------------------------------------------------------------------
Step "Copying the agent to $InstallDir"
foreach ($old in @('dist', 'node_modules', 'agent', 'rules')) {
  $path = Join-Path $InstallDir $old
  if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
}
New-Item -ItemType Directory -Force -Path $InstallDir, (Join-Path $InstallDir 'agent\http') | Out-Null
Copy-Item -LiteralPath (Join-Path $PackageDir 'package.json') -Destination $InstallDir -Force
Copy-Item -LiteralPath (Join-Path $PackageDir 'dist') -Destination $InstallDir -Recurse -Force
Copy-Item -LiteralPath (Join-Path $PackageDir 'node_modules') -Destination $InstallDir -Recurse -Force
Copy-Item -LiteralPath (Join-Path $PackageDir 'agent\http\page') -Destination (Join-Path $InstallDir 'agent\http') -Recurse -Force
Copy-Item -LiteralPath (Join-Path $PackageDir 'rules') -Destination $InstallDir -Recurse -Force
Copy-Item -LiteralPath $NodePath -Destination (Join-Path $InstallDir 'node.exe') -Force
Move-Item -LiteralPath $staged -Destination $Wrapper -Force
Copy-Item -LiteralPath (Join-Path $PackageDir 'deploy\windows\contention-agent.xml') -Destination (Join-Path $InstallDir "$ServiceId.xml") -Force

# --- Configuration and logs -------------------------------------------------------------------
New-Item -ItemType Directory -Force -Path $DataDir, $LogDir | Out-Null
# Webhook URLs in the config can carry credentials: SYSTEM and Administrators only (by SID, so any language works).
& icacls.exe $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $DataDir failed ($LASTEXITCODE)" }
if (-not (Test-Path -LiteralPath $ConfigPath)) {
  if ($ConfigFile) {
    Copy-Item -LiteralPath $ConfigFile -Destination $ConfigPath
  } else {
    # BEGIN DEFAULT CONFIG
    $defaultConfig = @'
# contention-agent configuration (docs/configuration.md). Every key has a default; this file sets
# only what a Windows host usually changes. Check it with:
#   & "$env:ProgramFiles\contention-agent\node.exe" "$env:ProgramFiles\contention-agent\dist\agent\cli.js" check-config config.yaml
web:
  listen_address: ":9947"
log:
  format: logfmt
'@
    # END DEFAULT CONFIG
    Set-Content -LiteralPath $ConfigPath -Value $defaultConfig -Encoding UTF8
  }
  Step "Wrote $ConfigPath"
} else {
  Step "Keeping $ConfigPath"
}
& (Join-Path $InstallDir 'node.exe') (Join-Path $InstallDir 'dist\agent\cli.js') check-config $ConfigPath
if ($LASTEXITCODE -ne 0) { throw "$ConfigPath is not a valid config (see above)" }

# --- Event source -----------------------------------------------------------------------------
Step "Registering the event source $EventSource in the Application log"
$sourceKey = "HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\$EventSource"
New-Item -Path $sourceKey -Force | Out-Null
New-ItemProperty -Path $sourceKey -Name EventMessageFile -PropertyType ExpandString -Value $EventMessageFile -Force | Out-Null
New-ItemProperty -Path $sourceKey -Name TypesSupported -PropertyType DWord -Value 7 -Force | Out-Null

# --- Service ----------------------------------------------------------------------------------
Step "Installing and starting the $ServiceId service"
& $Wrapper install | Out-Host
if ($LASTEXITCODE -ne 0) { throw "WinSW install failed ($LASTEXITCODE)" }
& $Wrapper start | Out-Host
if ($LASTEXITCODE -ne 0) { throw "WinSW start failed ($LASTEXITCODE); see $LogDir" }
Get-Service -Name $ServiceId | Format-Table -AutoSize Name, Status, StartType | Out-Host
Write-Host "Installed. Metrics: http://localhost:9947/metrics  Config: $ConfigPath  Logs: $LogDir"
