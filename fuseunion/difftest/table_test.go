package difftest

import (
	"fmt"
	"strings"
	"testing"
)

// baseLayers is a small three-layer fixture most table cases start from:
// merged dirs, whiteouts, an opaque dir, a dir replaced by a file, a
// hardlink pair, setuid and setgid entries, owners other than root,
// user xattrs, a fifo and symlinks.
const baseLayers = `
layer
dir p=d mode=0755 mtime=1100000000.1
file p=d/x data="lower x" mode=0644 uid=1000 gid=1000 x.user.a=1
file p=d/y data="lower y" mode=04755 mtime=1100000000.2
dir p=d/sub mode=0700 uid=4242 gid=4242
file p=d/sub/deep data=deep
dir p=o
file p=o/gone data=hidden
dir p=r
file p=r/f data=rf
file p=h1 data="linked data" mode=0640 uid=65534
hardlink p=h2 q=h1
dir p=sg mode=02775 gid=1000
fifo p=ff mode=0644
symlink p=ln q=d/x
file p=big data="0123456789abcdef" rep=8192
layer
dir p=d mode=0755 mtime=1100000000.1
whiteout p=d/y
file p=d/z data="middle z" x.user.b=2
dir p=o mode=0755 opaque=y
file p=o/new data=new
file p=r data="r became a file"
layer
dir p=d mode=0750 uid=1000 mtime=1100000000.3
file p=d/w data="top w"
dir p=e mode=0755
dir p=e/f mode=0755
dir p=e/f/g mode=0755
file p=e/f/g/leaf data=leaf mtime=1100000000.4
`

// tableCases are differential cases: the same ops on kernel overlayfs and
// every candidate, trees compared after each op.
var tableCases = []struct {
	name string
	ops  string
}{
	{"lookup-and-readdir", `
readdir p=""
readdir p=d
readdir p=o
stat p=d/y
stat p=o/gone
stat p=r
read p=r
readlink p=ln
read p=ln
readlink p=d/x
listxattr p=d/x
getxattr p=d/x name=user.a
getxattr p=d/x name=user.nope`},
	{"unlink-lower-and-recreate", `
unlink p=d/x
stat p=d/x
readdir p=d
create p=d/x mode=0600
read p=d/x
unlink p=d/z
unlink p=d/z
create p=d/z flags=excl mode=0644
create p=d/z flags=excl mode=0644`},
	{"rmdir-merged", `
rmdir p=d
unlink p=d/x
unlink p=d/z
unlink p=d/w
rmdir p=d/sub
unlink p=d/sub/deep
rmdir p=d/sub
rmdir p=d
stat p=d
mkdir p=d mode=0700
readdir p=d
stat p=d/x`},
	{"rmdir-opaque-and-whiteout-only", `
rmdir p=o
unlink p=o/new
rmdir p=o
mkdir p=o mode=0755
readdir p=o`},
	{"rename-files", `
rename p=d/x q=d/z
read p=d/z
stat p=d/x
rename p=d/w q=d/n flags=noreplace
rename p=d/n q=d/z flags=noreplace
rename p=d/n q=big flags=exchange
read p=d/n
read p=big
rename p=ln q=d/sym
readlink p=d/sym
rename p=ff q=d/fifo
stat p=d/fifo`},
	{"rename-lower-dirs", `
rename p=d q=dd
readdir p=dd
stat p=d
rename p=dd/sub q=e/f/g/sub
readdir p=e/f/g/sub
rename p=o q=oo
readdir p=oo
rename p=e q=dd flags=noreplace
rename p=e q=dd flags=exchange
readdir p=e
readdir p=dd`},
	{"rename-dir-errors", `
rename p=d q=d/sub/in
rename p=d q=e
mkdir p=empty mode=0755
rename p=d q=empty
readdir p=empty
rename p=d/x q=e
rename p=e q=big
rename p=nothing q=x
rename p=e/f q=e/f
rename p=e q=e/f flags=exchange`},
	{"rename-over-special", `
rename p=big q=ff
stat p=ff
rename p=ln q=d/x
readlink p=d/x
symlink p=ff q=anything
symlink p=e q=anything
mkfifo p=ln mode=0644
mkdir p=ff mode=0755
link p=ff q=ff2
stat p=ff2`},
	{"links", `
link p=d/x q=d/x2
stat p=d/x2
link p=d q=d2
link p=d/x q=d/z
link p=nothing q=n
link p=d/x q=nodir/n
link p=ln q=ln2
readlink p=ln2`},
	{"write-truncate-append", `
write p=d/x off=3 data=XYZ
read p=d/x
write p=d/z off=100000 data=far
read p=d/z
truncate p=d/w off=2
read p=d/w
truncate p=d/w off=70000
read p=d/w
append p=big data=tail
read p=big
otrunc p=r
read p=r
write p=ff data=x
append p=ff data=x
read p=ff
write p=d data=x
truncate p=d off=0
truncate p=nothing off=0`},
	{"setuid-setgid-clearing", `
write p=d/y data=x
chown p=h1 uid=0 gid=0
create p=s1 mode=04755
stat p=s1
write p=s1 data=w
stat p=s1
create p=s2 mode=02755
otrunc p=s2
create p=s3 mode=06755
truncate p=s3 off=1
chmod p=s3 mode=06755
chown p=s3 uid=1000 gid=-1
create p=s4 mode=02745
chown p=s4 uid=-1 gid=1000`},
	// Writes and truncates clear setuid/setgid only for a caller without
	// CAP_FSETID (as=), setgid only when the group may execute: the
	// union does it itself (HANDLE_KILLPRIV_V2), the kernel tells when.
	{"write-kills-setuid-setgid", `
create p=k1 mode=06777
write p=k1 data=x as=1000
stat p=k1
create p=k2 mode=06777
write p=k2 data=x
stat p=k2
create p=k3 mode=06767
append p=k3 data=x as=1000
stat p=k3
create p=k4 mode=06777
truncate p=k4 off=0 as=1000
stat p=k4
chmod p=d/y mode=06777
write p=d/y data=x as=1000
stat p=d/y`},
	{"ownership", `
chown p=d/x uid=0 gid=0
chown p=d/x uid=1000 gid=65534
chown p=d/x uid=-1 gid=4242
chown p=ln uid=1000 gid=1000 flags=nofollow
chown p=ln uid=4242 gid=4242
stat p=ln
stat p=d/x
chown p=d uid=1 gid=1
chown p=ff uid=1000 gid=1000
create p=sg/new mode=0644
mkdir p=sg/newdir mode=0755
stat p=sg/new
stat p=sg/newdir`},
	{"modes", `
chmod p=d/x mode=0000
chmod p=d mode=01777
chmod p=ff mode=0600
chmod p=e/f/g/leaf mode=04711
chmod p=ln mode=0600
stat p=ln
stat p=d/x`},
	{"explicit-times", `
utimes p=d/x time=1200000000.123456789
utimes p=d time=1200000001.5
utimes p=ln time=1200000002.25 flags=nofollow
utimes p=ln time=1200000003.75
utimes p=ff time=1200000004.0
utimes p=nothing time=1200000005.0
write p=e/f/g/leaf data=x
mkdir p=e/f/new mode=0755`},
	{"xattrs", `
setxattr p=d/x name=user.a value=changed
getxattr p=d/x name=user.a
setxattr p=d/x name=user.a value=again flags=create
setxattr p=d/x name=user.n value=v flags=replace
setxattr p=d/x name=user.n value=v flags=create
rmxattr p=d/x name=user.a
rmxattr p=d/x name=user.a
listxattr p=d/x
setxattr p=d name=user.dir value=v
setxattr p=ln name=user.s value=v
setxattr p=ff name=user.f value=v
setxattr p=d/z name=trusted.t value=v
getxattr p=d/z name=user.b
rmxattr p=d/z name=user.b
listxattr p=d/z
getxattr p=o name=user.overlay.opaque
listxattr p=o`},
	{"copy-up-keeps-parents", `
write p=e/f/g/leaf data=changed
stat p=e/f/g
chmod p=d/sub/deep mode=0600
append p=big data=x`},
	{"permissions", `
write p=d/x data=no as=1000
read p=d/sub/deep as=1000
create p=e/new mode=0644 as=1000
mkdir p=sg/mine mode=0755 as=1000
chmod p=d/x mode=0600 as=1000
chown p=d/x uid=1000 gid=1000 as=1000
unlink p=e/f/g/leaf as=1000
rename p=d/w q=d/w2 as=1000
setxattr p=d/x name=user.me value=v as=1000
utimes p=d/x time=1200000000.0 as=1000
readdir p=d/sub as=1000
stat p=d/sub/deep as=1000`},
	{"hardlink-group-untouched", `
stat p=h1
stat p=h2
read p=h2
link p=big q=big2
stat p=big2`},
	{"names", `
create p=` + strings.Repeat("n", 255) + ` mode=0644
create p=` + strings.Repeat("n", 256) + ` mode=0644
mkdir p=` + strings.Repeat("m", 256) + ` mode=0755
stat p=` + strings.Repeat("s", 256) + `
rename p=d/x q=` + strings.Repeat("r", 256) + `
create p=d/x/under mode=0644
stat p=ff/under
mkdir p=ln/under mode=0755`},
}

// TestDifferentialTable runs tableCases on both upper filesystems.
func TestDifferentialTable(t *testing.T) {
	requireKernel(t)
	for _, bname := range backingNames {
		for _, tc := range tableCases {
			t.Run(fmt.Sprintf("%s/%s", tc.name, bname), func(t *testing.T) {
				c, err := parseCase("backing name=" + bname + "\n" + baseLayers + "ops\n" + tc.ops)
				if err != nil {
					t.Fatalf("parse case: %v", err)
				}
				runCase(t, c)
			})
		}
	}
}
