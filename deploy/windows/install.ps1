#Requires -RunAsAdministrator
<#
.SYNOPSIS
  Installs or upgrades contention-agent as a Windows service, from the unpacked release zip.

.DESCRIPTION
  Works offline: everything comes from the folder this script is in (the windows-amd64 zip, built by
  `npm run package`): node.exe, the agent with its dependencies, and the WinSW service wrapper as
  contention-agent.exe. Copies them to -InstallDir, writes the default config under
  %ProgramData%\contention-agent unless one is there, opens the metrics port in the Windows firewall
  for the agent's node.exe only, registers the event source the agent writes policy decisions and
  alerts under, then installs and starts the service. Running it again upgrades in place and keeps
  the config and logs.

.PARAMETER InstallDir
  Where the program goes. Default: %ProgramFiles%\contention-agent.

.PARAMETER ConfigFile
  A config to install instead of the default one (only when none is installed yet).

.PARAMETER Port
  The TCP port the firewall rule opens; match web.listen_address in the config. Default 9947.

.PARAMETER NoFirewall
  Do not add the firewall rule (for hosts where the firewall is managed centrally).

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\install.ps1
#>
[CmdletBinding()]
param(
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'contention-agent'),
  [string] $ConfigFile,
  [int] $Port = 9947,
  [switch] $NoFirewall
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ServiceId = 'contention-agent'
$EventSource = 'contention-agent'
$FirewallRule = 'contention-agent'
$PackageDir = $PSScriptRoot
# .NET's message file: every event ID's message is "%1", so the agent's text is the whole description.
$EventMessageFile = '%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll'
$DataDir = Join-Path $env:ProgramData 'contention-agent'
$LogDir = Join-Path $DataDir 'logs'
$ConfigPath = Join-Path $DataDir 'config.yaml'
$Wrapper = Join-Path $InstallDir "$ServiceId.exe"
# What the zip carries; the program folder is replaced by exactly this on every install.
$ProgramItems = @('node.exe', 'node.LICENSE.txt', "$ServiceId.exe", "$ServiceId.exe.config", "$ServiceId.xml", 'winsw.LICENSE.txt',
  'package.json', 'package-lock.json', 'dist', 'node_modules', 'agent', 'rules', 'dashboards', 'docs', 'README.txt', 'uninstall.ps1')

function Step([string] $what) { Write-Host "==> $what" }

# --- What the install needs -------------------------------------------------------------------
foreach ($need in @('node.exe', "$ServiceId.exe", "$ServiceId.xml", 'dist\agent\cli.js', 'node_modules\@koromix\koffi-win32-x64', 'agent\http\page\index.html', 'config.yaml')) {
  if (-not (Test-Path -LiteralPath (Join-Path $PackageDir $need))) {
    throw "$PackageDir has no ${need}: run this script from the unpacked contention-agent windows-amd64 zip"
  }
}
& (Join-Path $PackageDir 'node.exe') (Join-Path $PackageDir 'dist\agent\cli.js') --version | Out-Host
if ($LASTEXITCODE -ne 0) { throw "the agent in $PackageDir does not start ($LASTEXITCODE)" }

# --- Stop an installed version ----------------------------------------------------------------
if (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue) {
  Step 'Stopping the installed service for the upgrade'
  Stop-Service -Name $ServiceId -ErrorAction SilentlyContinue
  if (Test-Path -LiteralPath $Wrapper) { & $Wrapper uninstall | Out-Host } else { & sc.exe delete $ServiceId | Out-Host }
  for ($i = 0; $i -lt 30 -and (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue); $i++) { Start-Sleep -Seconds 1 }
}

# --- Program files ----------------------------------------------------------------------------
if ((Resolve-Path -LiteralPath $PackageDir).Path -ne [IO.Path]::GetFullPath($InstallDir)) {
  Step "Copying the agent to $InstallDir"
  New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
  foreach ($item in $ProgramItems) {
    $target = Join-Path $InstallDir $item
    if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
    $source = Join-Path $PackageDir $item
    if (Test-Path -LiteralPath $source) { Copy-Item -LiteralPath $source -Destination $target -Recurse -Force }
  }
}

# --- Configuration and logs -------------------------------------------------------------------
New-Item -ItemType Directory -Force -Path $DataDir, $LogDir | Out-Null
# Webhook URLs in the config can carry credentials: SYSTEM and Administrators only (by SID, so any language works).
& icacls.exe $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $DataDir failed ($LASTEXITCODE)" }
if (-not (Test-Path -LiteralPath $ConfigPath)) {
  $from = if ($ConfigFile) { $ConfigFile } else { Join-Path $PackageDir 'config.yaml' }
  Copy-Item -LiteralPath $from -Destination $ConfigPath
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

# --- Firewall ---------------------------------------------------------------------------------
if (-not $NoFirewall) {
  Step "Allowing inbound TCP $Port to the agent in the Windows firewall"
  Get-NetFirewallRule -Name $FirewallRule -ErrorAction SilentlyContinue | Remove-NetFirewallRule
  New-NetFirewallRule -Name $FirewallRule -DisplayName 'contention-agent metrics' -Description 'Prometheus scrapes of contention-agent' `
    -Direction Inbound -Action Allow -Protocol TCP -LocalPort $Port -Program (Join-Path $InstallDir 'node.exe') -Profile Any | Out-Null
}

# --- Service ----------------------------------------------------------------------------------
Step "Installing and starting the $ServiceId service"
& $Wrapper install | Out-Host
if ($LASTEXITCODE -ne 0) { throw "WinSW install failed ($LASTEXITCODE)" }
# WinSW 1.17 has no delayedAutoStart element: start after the boot rush, the agent is needed by no other service.
& sc.exe config $ServiceId start= delayed-auto | Out-Null
if ($LASTEXITCODE -ne 0) { throw "sc.exe config $ServiceId start= delayed-auto failed ($LASTEXITCODE)" }
& $Wrapper start | Out-Host
if ($LASTEXITCODE -ne 0) { throw "WinSW start failed ($LASTEXITCODE); see $LogDir" }
Get-Service -Name $ServiceId | Format-Table -AutoSize Name, Status, StartType | Out-Host
Write-Host "Installed. Metrics: http://localhost:$Port/metrics  Config: $ConfigPath  Logs: $LogDir"
