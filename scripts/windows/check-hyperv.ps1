#Requires -Version 5.1
<#
.SYNOPSIS
End-to-end check of hvsock.exe on a real Hyper-V host with a running Linux guest.

.DESCRIPTION
What CI cannot check (it runs hvsock.exe under wine, which has no AF_HYPERV and no
Host Compute Service): run this as administrator on a Hyper-V host. Every step prints
PASS or FAIL (or SKIP when an earlier step it needs failed); the script exits 1 if any
step failed, 0 otherwise, and removes what it created.

Steps: register a test service with `hvsock.exe service add` (read back with
Get-ItemProperty: its ElementName), `hvsock.exe vm list` shows the VM (from the HCS),
`hvsock.exe exec` (streams, exit code, stdin), `hvsock.exe cp` of a tree up and down,
host -> guest connect to a guest listener, guest -> host connect to a host listener,
the service disabled in hvsock (HvsockDisabled) refused by hvsock's connect and listen,
then cleanup.

The guest needs: a Linux kernel with hv_sock (`modprobe hv_sock`), the hvsock binary
(-GuestHvsock, default `hvsock` on PATH), and the agent running as root:
`HVSOCK_GUEST=1 hvsock agent` (or the systemd unit in dist/). The agent's service
must be registered on the host once:
  hvsock.exe service add "hvsock agent" --id 00004856-facb-11e6-bd58-64006a7986d3
The guest-side listener and client of the connect steps are started through the
agent (`hvsock.exe exec`), so no PowerShell Direct (Windows guests only) is needed.

.PARAMETER VMName
The Hyper-V VM (as Get-VM names it); it must be running.

.PARAMETER HvsockExe
Path of hvsock.exe (default: hvsock.exe next to this script).

.PARAMETER GuestHvsock
The hvsock command inside the guest (default: hvsock, on the guest's PATH).

.PARAMETER TimeoutSeconds
How long any one hvsock.exe command may take (default 60).

.EXAMPLE
.\check-hyperv.ps1 -VMName debian12 -HvsockExe C:\tools\hvsock.exe
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$VMName,
    [string]$HvsockExe = (Join-Path $PSScriptRoot 'hvsock.exe'),
    [string]$GuestHvsock = 'hvsock',
    [int]$TimeoutSeconds = 60
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$script:Failed = 0
$script:Passed = 0
function Write-Step {
    param([string]$Name, [bool]$Ok, [string]$Detail = '')
    if ($Ok) {
        $script:Passed++
        Write-Host ("PASS  " + $Name)
    } else {
        $script:Failed++
        Write-Host ("FAIL  " + $Name) -ForegroundColor Red
        if ($Detail) {
            foreach ($l in ($Detail -split "`r?`n")) { Write-Host ("      " + $l) }
        }
    }
}
function Write-Skip {
    param([string]$Name, [string]$Why)
    Write-Host ("SKIP  " + $Name + " (" + $Why + ")") -ForegroundColor Yellow
}

# One argument quoted the way the C runtime and Rust's std split a command line:
# backslashes are literal except before a quote, where they are doubled.
function ConvertTo-Argument {
    param([string]$Arg)
    if ($Arg.Length -gt 0 -and $Arg -notmatch '[\s"]') { return $Arg }
    $sb = New-Object System.Text.StringBuilder
    [void]$sb.Append('"')
    $slashes = 0
    foreach ($c in $Arg.ToCharArray()) {
        if ($c -eq [char]'\') {
            $slashes++
        } elseif ($c -eq [char]'"') {
            [void]$sb.Append('\' * (2 * $slashes + 1))
            [void]$sb.Append('"')
            $slashes = 0
        } else {
            [void]$sb.Append('\' * $slashes)
            [void]$sb.Append($c)
            $slashes = 0
        }
    }
    [void]$sb.Append('\' * (2 * $slashes))
    [void]$sb.Append('"')
    return $sb.ToString()
}

# Starts hvsock.exe with ARGS, stdin/stdout/stderr redirected. Not through PowerShell's
# native-command calling: 5.1 mangles embedded quotes and turns stderr into errors.
function Start-Hvsock {
    param([string[]]$Arguments)
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $HvsockExe
    $psi.Arguments = (($Arguments | ForEach-Object { ConvertTo-Argument $_ }) -join ' ')
    $psi.UseShellExecute = $false
    $psi.CreateNoWindow = $true
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.StandardOutputEncoding = [System.Text.Encoding]::UTF8
    $psi.StandardErrorEncoding = [System.Text.Encoding]::UTF8
    $p = [System.Diagnostics.Process]::Start($psi)
    return [pscustomobject]@{
        Process = $p
        Out     = $p.StandardOutput.ReadToEndAsync()
        Err     = $p.StandardError.ReadToEndAsync()
    }
}

# Waits for a started hvsock.exe (killing it after the timeout: exit code -1).
function Wait-Hvsock {
    param($Started, [int]$Timeout = $TimeoutSeconds)
    $p = $Started.Process
    $code = -1
    if ($p.WaitForExit($Timeout * 1000)) {
        $p.WaitForExit()
        $code = $p.ExitCode
    } else {
        try { $p.Kill() } catch { }
        [void]$p.WaitForExit(5000)
    }
    return [pscustomobject]@{
        ExitCode = $code
        Stdout   = $Started.Out.Result
        Stderr   = $Started.Err.Result
    }
}

# Runs hvsock.exe ARGS to the end, with -Stdin bytes (none: an empty stdin).
function Invoke-Hvsock {
    param([string[]]$Arguments, [byte[]]$Stdin = $null, [int]$Timeout = $TimeoutSeconds)
    $s = Start-Hvsock $Arguments
    try {
        if ($null -ne $Stdin -and $Stdin.Length -gt 0) {
            $s.Process.StandardInput.BaseStream.Write($Stdin, 0, $Stdin.Length)
        }
        $s.Process.StandardInput.Close()
    } catch {
        # The process ended early; its output says why.
    }
    return Wait-Hvsock $s $Timeout
}

function Format-Result {
    param($R)
    if ($null -eq $R) { return '(not run)' }
    return ("exit " + $R.ExitCode + "`nstdout: " + $R.Stdout.Trim() + "`nstderr: " + $R.Stderr.Trim())
}

function Get-Sha256Hex {
    param([byte[]]$Bytes)
    $h = [System.Security.Cryptography.SHA256]::Create()
    try {
        return (($h.ComputeHash($Bytes) | ForEach-Object { $_.ToString('x2') }) -join '')
    } finally {
        $h.Dispose()
    }
}

# Relative path -> SHA-256 of every file under DIR, and every directory (hash '<dir>').
function Get-TreeDigest {
    param([string]$Dir)
    $root = (Resolve-Path -LiteralPath $Dir).ProviderPath.TrimEnd('\')
    $map = @{}
    foreach ($i in (Get-ChildItem -LiteralPath $root -Recurse -Force)) {
        $rel = $i.FullName.Substring($root.Length + 1)
        if ($i.PSIsContainer) {
            $map[$rel] = '<dir>'
        } else {
            $map[$rel] = (Get-FileHash -LiteralPath $i.FullName -Algorithm SHA256).Hash
        }
    }
    return $map
}

function Compare-Digest {
    param($A, $B)
    $diff = @()
    foreach ($k in $A.Keys) {
        if (-not $B.ContainsKey($k)) { $diff += "missing: $k" }
        elseif ($A[$k] -ne $B[$k]) { $diff += "differs: $k" }
    }
    foreach ($k in $B.Keys) {
        if (-not $A.ContainsKey($k)) { $diff += "extra: $k" }
    }
    return $diff
}

# --- Preconditions -------------------------------------------------------------------
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Host 'FAIL  run as administrator (registering services writes HKLM)' -ForegroundColor Red
    exit 1
}
if (-not (Test-Path -LiteralPath $HvsockExe -PathType Leaf)) {
    Write-Host ("FAIL  hvsock.exe not found: " + $HvsockExe + " (pass -HvsockExe)") -ForegroundColor Red
    exit 1
}
$HvsockExe = (Resolve-Path -LiteralPath $HvsockExe).ProviderPath
if ($null -eq (Get-Command Get-VM -ErrorAction SilentlyContinue)) {
    Write-Host 'FAIL  Get-VM not found: run on a Hyper-V host (the Hyper-V PowerShell module)' -ForegroundColor Red
    exit 1
}
$vm = Get-VM -Name $VMName -ErrorAction SilentlyContinue
if ($null -eq $vm -or $vm.State -ne 'Running') {
    Write-Host ("FAIL  VM " + $VMName + " not found or not running (Get-VM)") -ForegroundColor Red
    exit 1
}
$vmId = $vm.VMId.ToString()
Write-Host ("check-hyperv: " + $HvsockExe + ", VM " + $VMName + " (" + $vmId + ")")

$gcs = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
$port = Get-Random -Minimum 20000 -Maximum 60000
$svcName = "hvsock check $port"
$svcId = ('{0:x8}-facb-11e6-bd58-64006a7986d3' -f $port)
$tag = "hvsock-check-$port"
$work = Join-Path $env:TEMP $tag
$guestDir = "/tmp/$tag"
$listener = $null

try {
    # --- 1. service add, read back from the registry ------------------------------
    $r = Invoke-Hvsock @('service', 'add', $svcName, '--vsock-port', "$port")
    $added = ($r.ExitCode -eq 0 -and $r.Stdout.Trim() -eq $svcId)
    Write-Step "hvsock.exe service add `"$svcName`" --vsock-port $port prints $svcId" $added (Format-Result $r)
    $element = $null
    try {
        $element = (Get-ItemProperty -LiteralPath (Join-Path $gcs $svcId) -Name ElementName).ElementName
    } catch {
        $element = $null
    }
    Write-Step "registry: $gcs\$svcId has ElementName `"$svcName`"" ($element -eq $svcName) ("ElementName: " + $element)

    # --- 2. vm list: the VM from the Host Compute Service ------------------------
    $r = Invoke-Hvsock @('vm', 'list')
    $listed = ($r.ExitCode -eq 0 -and $r.Stdout -match [regex]::Escape($VMName) -and $r.Stdout -match [regex]::Escape($vmId))
    Write-Step "hvsock.exe vm list shows $VMName with id $vmId" $listed (Format-Result $r)

    # --- 3. exec: streams, exit code, stdin --------------------------------------
    $r = Invoke-Hvsock @('exec', $VMName, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7')
    $agentOk = ($r.ExitCode -ne 255)
    $ok = ($r.ExitCode -eq 7 -and $r.Stdout -eq "out`n" -and $r.Stderr -match '(?m)^err\r?$')
    Write-Step "hvsock.exe exec $VMName -- sh -c '...': stdout out, stderr err, exit 7" $ok (Format-Result $r)
    if ($agentOk) {
        $r = Invoke-Hvsock @('exec', $VMName, '--', 'uname', '-s')
        Write-Step "hvsock.exe exec $VMName -- uname -s prints Linux" ($r.ExitCode -eq 0 -and $r.Stdout.Trim() -eq 'Linux') (Format-Result $r)
        $blob = New-Object byte[] (4MB)
        (New-Object System.Random).NextBytes($blob)
        $want = Get-Sha256Hex $blob
        $r = Invoke-Hvsock @('exec', $VMName, '--', 'sha256sum') $blob
        $got = ($r.Stdout -split '\s+')[0]
        Write-Step "hvsock.exe exec $VMName -- sha256sum: 4 MiB of stdin arrive intact" ($r.ExitCode -eq 0 -and $got -eq $want) ("want $want`n" + (Format-Result $r))
    } else {
        Write-Host '      (exit 255: the agent cannot be reached; is `HVSOCK_GUEST=1 hvsock agent` running in the guest and "hvsock agent" registered?)'
    }

    # --- 4. cp: a tree up and back down -------------------------------------------
    if ($agentOk) {
        $tree = Join-Path $work 'tree'
        New-Item -ItemType Directory -Force -Path (Join-Path $tree 'sub\deeper') | Out-Null
        New-Item -ItemType Directory -Force -Path (Join-Path $work 'down') | Out-Null
        [System.IO.File]::WriteAllText((Join-Path $tree 'a.txt'), "hello from the host`n")
        [System.IO.File]::WriteAllText((Join-Path $tree 'with space.txt'), "x`ny`n")
        $bin = New-Object byte[] 300000
        (New-Object System.Random).NextBytes($bin)
        [System.IO.File]::WriteAllBytes((Join-Path $tree 'sub\b.bin'), $bin)
        [System.IO.File]::WriteAllBytes((Join-Path $tree 'sub\deeper\empty'), (New-Object byte[] 0))
        $r = Invoke-Hvsock @('cp', '-r', $tree, "${VMName}:$guestDir")
        Write-Step "hvsock.exe cp -r $tree ${VMName}:$guestDir" ($r.ExitCode -eq 0) (Format-Result $r)
        $r = Invoke-Hvsock @('exec', $VMName, '--', 'sha256sum', "$guestDir/sub/b.bin")
        $got = ($r.Stdout -split '\s+')[0]
        Write-Step "the guest's copy of sub/b.bin has the host's SHA-256" ($got -eq (Get-Sha256Hex $bin)) (Format-Result $r)
        $down = Join-Path $work 'down'
        $r = Invoke-Hvsock @('cp', '-r', "${VMName}:$guestDir", $down)
        $back = Join-Path $down $tag
        $same = $false
        $detail = Format-Result $r
        if ($r.ExitCode -eq 0 -and (Test-Path -LiteralPath $back -PathType Container)) {
            $d = @(Compare-Digest (Get-TreeDigest $tree) (Get-TreeDigest $back))
            $same = ($d.Count -eq 0)
            $detail += "`n" + ($d -join "`n")
        }
        Write-Step "hvsock.exe cp -r ${VMName}:$guestDir $down lands as $back, names and contents identical" $same $detail
    } else {
        Write-Skip 'hvsock.exe cp up and down' 'the agent cannot be reached'
    }

    # --- 5. host -> guest: a guest listener, started through the agent -----------
    if ($agentOk -and $added) {
        $guestCmd = "HVSOCK_GUEST=1 exec $GuestHvsock listen any:vsock:$port -e sh -c 'read l; echo guest-got-`$l'"
        $guest = Start-Hvsock @('exec', $VMName, '--', 'sh', '-c', $guestCmd)
        $guest.Process.StandardInput.Close()
        $ok = $false
        $r = $null
        $deadline = (Get-Date).AddSeconds(20)
        while (-not $ok -and (Get-Date) -lt $deadline) {
            $r = Invoke-Hvsock @('connect', "${VMName}:vsock:$port") ([System.Text.Encoding]::ASCII.GetBytes("token-$port`n"))
            $ok = ($r.ExitCode -eq 0 -and $r.Stdout.Trim() -eq "guest-got-token-$port")
            if (-not $ok) { Start-Sleep -Milliseconds 500 }
        }
        $g = Wait-Hvsock $guest 10
        Write-Step "host -> guest: hvsock.exe connect ${VMName}:vsock:$port reaches a guest listener and reads its answer" $ok ((Format-Result $r) + "`nguest listener: " + (Format-Result $g))
    } else {
        Write-Skip 'host -> guest connect' 'needs the agent (to start the guest listener) and the service'
    }

    # --- 6. guest -> host: a host listener, the guest's client started through the agent
    if ($agentOk -and $added) {
        # Its stdin ends at once: it sends nothing, so the guest's client sees EOF and
        # ends after sending its line.
        $listener = Start-Hvsock @('listen', "any:vsock:$port")
        $listener.Process.StandardInput.Close()
        Start-Sleep -Seconds 1
        $ok = $false
        $r = $null
        $deadline = (Get-Date).AddSeconds(20)
        while (-not $ok -and (Get-Date) -lt $deadline -and -not $listener.Process.HasExited) {
            $r = Invoke-Hvsock @('exec', $VMName, '--', 'sh', '-c', "echo host-token-$port | HVSOCK_GUEST=1 $GuestHvsock connect parent:vsock:$port")
            $ok = ($r.ExitCode -eq 0)
            if (-not $ok) { Start-Sleep -Milliseconds 500 }
        }
        $l = Wait-Hvsock $listener 15
        $listener = $null
        $ok = ($ok -and $l.Stdout.Trim() -eq "host-token-$port")
        Write-Step "guest -> host: the guest's hvsock connect parent:vsock:$port reaches hvsock.exe listen any:vsock:$port" $ok ("guest client: " + (Format-Result $r) + "`nhost listener: " + (Format-Result $l))
    } else {
        Write-Skip 'guest -> host connect' 'needs the agent (to run the guest client) and the service'
    }

    # --- 7. disabled in hvsock: refused by hvsock's own connect and listen --------
    if ($added) {
        $r = Invoke-Hvsock @('service', 'disable', $svcId)
        $flag = $null
        try { $flag = (Get-ItemProperty -LiteralPath (Join-Path $gcs $svcId) -Name HvsockDisabled).HvsockDisabled } catch { $flag = $null }
        Write-Step "hvsock.exe service disable sets HvsockDisabled = 1" ($r.ExitCode -eq 0 -and $flag -eq 1) ((Format-Result $r) + "`nHvsockDisabled: " + $flag)
        $r = Invoke-Hvsock @('connect', "${VMName}:vsock:$port")
        Write-Step "a disabled service: hvsock.exe connect is refused, naming it disabled" ($r.ExitCode -ne 0 -and $r.Stderr -match 'disabled') (Format-Result $r)
        $r = Invoke-Hvsock @('listen', "any:vsock:$port") $null 10
        Write-Step "a disabled service: hvsock.exe listen is refused, naming it disabled" ($r.ExitCode -ne 0 -and $r.ExitCode -ne -1 -and $r.Stderr -match 'disabled') (Format-Result $r)
        $r = Invoke-Hvsock @('service', 'enable', $svcId)
        Write-Step "hvsock.exe service enable" ($r.ExitCode -eq 0) (Format-Result $r)
    } else {
        Write-Skip 'disabled service refused' 'the service was not added'
    }
} finally {
    # --- 8. cleanup ------------------------------------------------------------------
    if ($null -ne $listener) {
        try { $listener.Process.Kill() } catch { }
    }
    if (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
    [void](Invoke-Hvsock @('exec', $VMName, '--', 'rm', '-rf', $guestDir))
    if (Test-Path -LiteralPath (Join-Path $gcs $svcId)) {
        $r = Invoke-Hvsock @('service', 'remove', $svcId)
        $gone = -not (Test-Path -LiteralPath (Join-Path $gcs $svcId))
        Write-Step "cleanup: hvsock.exe service remove $svcId deletes its key" ($r.ExitCode -eq 0 -and $gone) (Format-Result $r)
    }
}

Write-Host ("check-hyperv: " + $script:Passed + " passed, " + $script:Failed + " failed")
if ($script:Failed -gt 0) { exit 1 }
exit 0
