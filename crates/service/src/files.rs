//! Where uploaded files live: one interface, a local folder by default.
//! Files are kept under names the server makes up, never the uploader's.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::{Result, ServiceError};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A place to keep files by name.
pub trait FileStore: Send + Sync + std::fmt::Debug {
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> BoxFuture<'a, Result<()>>;
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<u8>>>;
    fn remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Every name kept (for a backup).
    fn names(&self) -> BoxFuture<'_, Result<Vec<String>>>;
}

/// Files in a folder of the local disk.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of a name we made; anything else is refused, so no name can
    /// reach outside the folder.
    fn path(&self, name: &str) -> Result<PathBuf> {
        if !is_stored_name(name) {
            return Err(ServiceError::internal(format!("not a stored file name: {name:?}")));
        }
        Ok(self.root.join(name))
    }
}

/// A name the server makes up: lower-case letters, digits, dots and dashes.
pub fn is_stored_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

fn io(what: &str, e: std::io::Error) -> ServiceError {
    ServiceError::caused(what, e)
}

impl FileStore for LocalFolder {
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let path = self.path(name)?;
            tokio::fs::create_dir_all(&self.root).await.map_err(|e| io("making the file folder", e))?;
            // written aside and renamed, so a reader never sees half a file
            let tmp = self.root.join(format!(".{name}.part"));
            tokio::fs::write(&tmp, bytes).await.map_err(|e| io("writing a file", e))?;
            tokio::fs::rename(&tmp, &path).await.map_err(|e| io("storing a file", e))
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(name)?;
            match tokio::fs::read(&path).await {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ServiceError::NotFound),
                Err(e) => Err(io("reading a file", e)),
            }
        })
    }

    fn remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let path = self.path(name)?;
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing a file", e)),
                _ => Ok(()),
            }
        })
    }

    fn names(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let mut dir = match tokio::fs::read_dir(&self.root).await {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
                Err(e) => return Err(io("listing the files", e)),
            };
            let mut names = Vec::new();
            while let Some(e) = dir.next_entry().await.map_err(|e| io("listing the files", e))? {
                // half-written files (".name.part") are not kept ones
                if let Some(n) = e.file_name().to_str().filter(|n| is_stored_name(n)) {
                    names.push(n.to_owned());
                }
            }
            names.sort();
            Ok(names)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_folder_keeps_files_by_our_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = LocalFolder::new(dir.path().join("files"));
        assert!(f.names().await.unwrap().is_empty(), "no folder yet");
        f.put("abc.jpg", b"x".to_vec()).await.unwrap();
        assert_eq!(f.get("abc.jpg").await.unwrap(), b"x");
        std::fs::write(dir.path().join("files/.def.jpg.part"), b"half").unwrap();
        assert_eq!(f.names().await.unwrap(), ["abc.jpg"]);
        for bad in ["../etc/passwd", "/abs", "a/b.jpg", ".hidden", "", "A.JPG"] {
            assert!(f.get(bad).await.is_err(), "{bad}");
            assert!(f.put(bad, vec![]).await.is_err(), "{bad}");
        }
        f.remove("abc.jpg").await.unwrap();
        assert!(matches!(f.get("abc.jpg").await, Err(ServiceError::NotFound)));
        f.remove("abc.jpg").await.unwrap();
    }
}
