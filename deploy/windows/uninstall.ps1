#Requires -RunAsAdministrator
<#
.SYNOPSIS
  Removes the contention-agent service, its program folder, its firewall rule and its event source.

.DESCRIPTION
  Keeps %ProgramData%\contention-agent (config and logs) unless -RemoveData is given, so a later
  install picks the config up again. Events already written stay in the Application log.
#>
[CmdletBinding()]
param(
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'contention-agent'),
  [switch] $RemoveData
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ServiceId = 'contention-agent'
$EventSource = 'contention-agent'
$FirewallRule = 'contention-agent'
$DataDir = Join-Path $env:ProgramData 'contention-agent'
$Wrapper = Join-Path $InstallDir "$ServiceId.exe"

if (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue) {
  Write-Host "==> Stopping and removing the $ServiceId service"
  Stop-Service -Name $ServiceId -ErrorAction SilentlyContinue
  if (Test-Path -LiteralPath $Wrapper) { & $Wrapper uninstall | Out-Host } else { & sc.exe delete $ServiceId | Out-Host }
  for ($i = 0; $i -lt 30 -and (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue); $i++) { Start-Sleep -Seconds 1 }
  if (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue) { throw "the $ServiceId service is still registered; close services.msc and retry" }
}

if (Get-NetFirewallRule -Name $FirewallRule -ErrorAction SilentlyContinue) {
  Write-Host "==> Removing the firewall rule $FirewallRule"
  Remove-NetFirewallRule -Name $FirewallRule
}

$sourceKey = "HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\$EventSource"
if (Test-Path -LiteralPath $sourceKey) {
  Write-Host "==> Removing the event source $EventSource"
  Remove-Item -LiteralPath $sourceKey -Recurse -Force
}

if (Test-Path -LiteralPath $InstallDir) {
  Write-Host "==> Removing $InstallDir"
  # This script may be running from there (the installed copy): PowerShell has read it already.
  Remove-Item -LiteralPath $InstallDir -Recurse -Force
}

if ($RemoveData) {
  if (Test-Path -LiteralPath $DataDir) {
    Write-Host "==> Removing $DataDir"
    Remove-Item -LiteralPath $DataDir -Recurse -Force
  }
} else {
  Write-Host "Kept $DataDir (config and logs); pass -RemoveData to remove it."
}
