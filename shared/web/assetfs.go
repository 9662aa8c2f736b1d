package web

import (
	"io/fs"
	"path"
	"strings"
)

// assetExts are the file types served under /static/.
var assetExts = map[string]bool{
	".css": true, ".js": true, ".map": true, ".png": true, ".svg": true, ".ico": true,
	".woff": true, ".woff2": true, ".jpg": true, ".webp": true, ".txt": true,
}

// AssetFS serves only asset files of fsys: folders can be walked, but a file
// whose type is not an asset (the package's embed.go, a stray README) does
// not exist for the static handler.
func AssetFS(fsys fs.FS) fs.FS { return assetFS{fsys} }

type assetFS struct{ fs.FS }

func (a assetFS) Open(name string) (fs.File, error) {
	f, err := a.FS.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.IsDir() && !assetExts[strings.ToLower(path.Ext(name))] {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f, nil
}
